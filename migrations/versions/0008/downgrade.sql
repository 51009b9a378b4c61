-- Only this revision's job leaves pg_cron; the others stay scheduled.
SELECT agentdb.unregister_job('agentdb-purge-slow-queries');
DROP FUNCTION agentdb.table_health();
DROP FUNCTION agentdb.perf_stats(integer);
DROP FUNCTION agentdb.purge_slow_queries(interval, integer);
DROP FUNCTION agentdb.record_slow_query(double precision, text, timestamptz);
DROP TABLE agentdb.slow_queries;
