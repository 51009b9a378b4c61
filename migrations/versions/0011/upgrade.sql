-- The run log is append-only for every role but its owner: agentdb_admin
-- keeps SELECT, and jobs write it through begin_run, record_run_counts,
-- close_abandoned_runs and finish_run (SECURITY DEFINER, run just before).
REVOKE INSERT, UPDATE ON agentdb.maintenance_runs FROM agentdb_admin;
