-- The memory lifecycle's jobs (schedules in UTC, pg_cron's default cron.timezone):
--   agentdb-memory-maintenance: consolidate then clean up, daily at 03:00.
--   agentdb-purge-cron-history: pg_cron logs every run in cron.job_run_details
--     and never trims it; keep 14 days. The command names the cron schema: it
--     only ever runs under pg_cron.
SELECT agentdb.register_job(
    'agentdb-memory-maintenance', '0 3 * * *',
    'CALL agentdb.run_memory_maintenance()',
    'Consolidate short-term memories, then delete the memories agentdb.memory_policies expire, in batches');
SELECT agentdb.register_job(
    'agentdb-purge-cron-history', '30 3 * * *',
    'DELETE FROM cron.job_run_details WHERE end_time < now() - interval ''14 days''',
    'Delete pg_cron''s run history older than 14 days');
