-- agentdb.begin_run and agentdb.finish_run run with the caller's rights, and
-- run_memory_maintenance, a procedure (it COMMITs, so it cannot be SECURITY
-- DEFINER), keeps its running row's counts up to date between batches and
-- closes the rows of runs whose backend died: agentdb_admin, who runs it,
-- needs to write the run log.
GRANT INSERT, UPDATE ON agentdb.maintenance_runs TO agentdb_admin;
