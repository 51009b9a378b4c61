-- The memory lifecycle's entries in agentdb.scheduled_jobs, and
-- schedule_maintenance()/unschedule_maintenance() in a database without
-- pg_cron: a NOTICE, nothing scheduled, nothing changed. (With pg_cron:
-- tests/test_memory_cron.py.)
BEGIN;
SELECT plan(5);

SELECT results_eq(
    $$SELECT job_name, schedule, command FROM agentdb.scheduled_jobs
       WHERE job_name IN ('agentdb-memory-maintenance', 'agentdb-purge-cron-history') ORDER BY job_name$$,
    $$VALUES ('agentdb-memory-maintenance'::text, '0 3 * * *'::text, 'CALL agentdb.run_memory_maintenance()'::text),
             ('agentdb-purge-cron-history', '30 3 * * *',
              'DELETE FROM cron.job_run_details WHERE end_time < now() - interval ''14 days''')$$,
    'memory maintenance daily at 03:00 UTC; pg_cron history purged of runs older than 14 days'
);
SELECT is(agentdb.cron_available(), false, 'no pg_cron in this database');
SELECT is_empty('SELECT * FROM agentdb.schedule_maintenance()', 'schedule_maintenance schedules nothing');
SELECT is_empty('SELECT * FROM agentdb.unschedule_maintenance()', 'unschedule_maintenance removes nothing');
SELECT is(count(*), 0::bigint, 'and no cron schema was created')
  FROM pg_namespace WHERE nspname = 'cron';

SELECT * FROM finish();
ROLLBACK;
