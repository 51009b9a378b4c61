-- Fix to agentdb_core.sql (0004): agentdb.begin_run and agentdb.finish_run
-- run with the caller's rights, and agentdb_admin, the role they are granted
-- to, could only SELECT the run log, so a non-superuser admin could not log
-- a run. Jobs (run_memory_maintenance) also keep their running row's counts
-- up to date between batches and close the rows of runs whose backend died.
GRANT INSERT, UPDATE ON agentdb.maintenance_runs TO agentdb_admin;
