-- The execution stats' job (schedule in UTC):
--   agentdb-execution-stats-check: verify yesterday against the raw rows and
--     repair any drift, daily at 02:00.
SELECT agentdb.register_job(
    'agentdb-execution-stats-check', '0 2 * * *',
    'SELECT agentdb.check_execution_stats()',
    'Verify yesterday''s execution stats (UTC) against the raw rows and repair any drift');
