-- The partitions capability's job (schedule in UTC, pg_cron's default cron.timezone):
--   agentdb-retention-maintenance: partition upkeep (pg_partman's
--     run_maintenance when installed), then drop expired months; daily 04:15.
SELECT agentdb.register_job(
    'agentdb-retention-maintenance', '15 4 * * *',
    'CALL agentdb.run_retention_maintenance()',
    'Create the partitions of agentdb.retention_policies tables ahead (pg_partman when installed), then drop the months older than their keep');
