-- The execution stats' jobs (schedule in UTC):
--   agentdb-execution-stats-fold: move the pending stats deltas into the
--     rollups, every minute (writers also fold, about every thousand deltas).
--   agentdb-execution-stats-check: verify yesterday against the raw rows and
--     repair any drift, daily at 02:00.
SELECT agentdb.register_job(
    'agentdb-execution-stats-fold', '* * * * *',
    'CALL agentdb.fold_execution_stats()',
    'Move the pending execution stats deltas into the rollups');
SELECT agentdb.register_job(
    'agentdb-execution-stats-check', '0 2 * * *',
    'SELECT agentdb.check_execution_stats()',
    'Verify yesterday''s execution stats (UTC) against the raw rows and repair any drift');
