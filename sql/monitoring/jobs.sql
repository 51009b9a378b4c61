-- Monitoring's job (schedule in UTC):
--   agentdb-purge-slow-queries: keep agentdb.slow_queries bounded, hourly.
SELECT agentdb.register_job(
    'agentdb-purge-slow-queries', '17 * * * *',
    'SELECT * FROM agentdb.purge_slow_queries()',
    'Keep agentdb.slow_queries bounded: drop rows older than 7 days, then all but the newest 100000');
