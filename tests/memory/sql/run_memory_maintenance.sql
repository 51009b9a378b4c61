-- agentdb.run_memory_maintenance: runs outside a transaction block (it
-- COMMITs between batches), so this file has no BEGIN/ROLLBACK; its database
-- is a throwaway clone. Covered: bad input, a CALL inside a transaction
-- block, the dry run, a real run in batches with its run row, a run by a
-- role holding only agentdb_admin, an abandoned run closed by the next one,
-- and a failing batch: recorded as failed with the error, COMMITted, raised
-- again with its SQLSTATE, the lock released, the next run finishing the job.
-- (Two concurrent runs and a terminated backend: tests/test_memory_maintenance.py.)
\ir memory_fixture.psql
SET client_min_messages = warning;
DROP ROLE IF EXISTS tap_memory_admin;
CREATE ROLE tap_memory_admin NOLOGIN IN ROLE agentdb_admin;
SELECT plan(39);

SELECT throws_ok('CALL agentdb.run_memory_maintenance(0)', '22023',
                 'p_batch_size must be a positive integer, not 0', 'batch size 0 is refused');
SELECT throws_ok('CALL agentdb.run_memory_maintenance(-1, true)', '22023',
                 'p_batch_size must be a positive integer, not -1', 'a negative batch size is refused');
SELECT throws_ok('CALL agentdb.run_memory_maintenance(10, NULL)', '22023',
                 'p_dry_run must be true or false, not NULL', 'a NULL p_dry_run is refused');
-- throws_ok runs the CALL inside its own (atomic) function call: exactly like BEGIN; CALL ...
SELECT throws_ok('CALL agentdb.run_memory_maintenance()', '2D000', NULL,
                 'inside a transaction block it fails at once (it must COMMIT)');
SELECT is((SELECT count(*) FROM agentdb.maintenance_runs), 0::bigint, 'none of these logged a run');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
          0::bigint, 'nor kept the advisory lock');

-- data: 25 expired short_term (5 of them recalled 3+ times, so consolidated
-- first), 12 expired episodic low, 7 expired long_term low, and keepers
\o /dev/null
SELECT pg_temp.mem('short_term', 'low', (20 + g || ' hours')::interval, '1 hour', CASE WHEN g < 10 THEN 3 ELSE 0 END)
  FROM generate_series(5, 29) AS g;
SELECT pg_temp.mem('episodic', 'low', (30 + g || ' days')::interval) FROM generate_series(1, 12) AS g;
SELECT pg_temp.mem('long_term', 'low', (90 + g || ' days')::interval) FROM generate_series(1, 7) AS g;
SELECT pg_temp.mem('long_term', t.i, '2 hours') FROM unnest(ARRAY['low', 'medium', 'high']) AS t(i);
SELECT pg_temp.mem('episodic', 'medium', '400 days');
\o
SELECT is((SELECT count(*) FROM public.agent_memories), 48::bigint, '48 memories');

CALL agentdb.run_memory_maintenance(10, true) \gset dry_
SELECT results_eq(
    format('SELECT job_name, status, error FROM agentdb.maintenance_runs WHERE id = %s', :dry_p_run_id),
    $$VALUES ('agentdb-memory-maintenance'::text, 'succeeded'::text, NULL::text)$$,
    'the dry run logged a succeeded run and returned its id');
SELECT is((SELECT counts - 'approx_bytes' FROM agentdb.maintenance_runs WHERE id = :dry_p_run_id),
          '{"dry_run": true, "batch_size": 10, "abandoned_runs": 0, "consolidated": 5, "batches": 0,
            "deleted": {"short_term": 25, "episodic_low": 12, "long_term_low": 7}}'::jsonb,
          'its counts: what consolidation and each policy would do on its own');
SELECT is((SELECT jsonb_object_keys(counts -> 'approx_bytes') IS NOT NULL FROM agentdb.maintenance_runs
            WHERE id = :dry_p_run_id LIMIT 1), true, 'and the approximate bytes per policy');
SELECT is((SELECT count(*) FROM public.agent_memories), 48::bigint, 'a dry run deletes nothing');
SELECT is((SELECT count(*) FROM public.agent_memories WHERE type = 'long_term'), 10::bigint,
          'and promotes nothing');

CALL agentdb.run_memory_maintenance(10) \gset run_
SELECT is((SELECT status FROM agentdb.maintenance_runs WHERE id = :run_p_run_id), 'succeeded', 'the real run succeeded');
SELECT is((SELECT counts FROM agentdb.maintenance_runs WHERE id = :run_p_run_id),
          '{"dry_run": false, "batch_size": 10, "abandoned_runs": 0, "consolidated": 5, "batches": 3,
            "deleted": {"short_term": 20, "episodic_low": 12, "long_term_low": 7}}'::jsonb,
          'consolidated 5 first, so 20 short_term deleted; 3 rounds of batches of 10');
SELECT is((SELECT count(*) FROM public.agent_memories), 48 - 39::bigint, '39 rows deleted');
SELECT is((SELECT count(*) FROM public.agent_memories WHERE type = 'long_term' AND importance = 'medium'
             AND access_count = 3), 5::bigint, 'the consolidated ones survive as long_term medium');
SELECT ok((SELECT finished_at >= started_at FROM agentdb.maintenance_runs WHERE id = :run_p_run_id),
          'started_at and finished_at are set');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
          0::bigint, 'the lock is released');

-- a role with only agentdb_admin can run it (no privilege on agent_memories)
SELECT pg_temp.mem('episodic', 'low', '45 days') IS NOT NULL AS inserted \gset
SET ROLE tap_memory_admin;
CALL agentdb.run_memory_maintenance() \gset admin_
RESET ROLE;
SELECT is((SELECT status || ' ' || (counts -> 'deleted' ->> 'episodic_low')
             FROM agentdb.maintenance_runs WHERE id = :admin_p_run_id),
          'succeeded 1', 'a role with only agentdb_admin runs it');

-- a run left 'running' by a backend that died is closed by the next run
INSERT INTO agentdb.maintenance_runs (job_name, started_at) VALUES ('agentdb-memory-maintenance', now() - interval '1 hour')
RETURNING id AS dead_id \gset
CALL agentdb.run_memory_maintenance() \gset next_
SELECT results_eq(
    format('SELECT status, error FROM agentdb.maintenance_runs WHERE id = %s', :dead_id),
    $$VALUES ('failed'::text, 'abandoned: the backend running it ended before it finished (terminated or crashed); found by the next run'::text)$$,
    'the abandoned run is marked failed');
SELECT is((SELECT counts ->> 'abandoned_runs' FROM agentdb.maintenance_runs WHERE id = :next_p_run_id), '1',
          'the next run counts it');

-- a batch that fails: the trigger refuses to delete the newest expired row,
-- so the first batches COMMIT and the third fails
\o /dev/null
SELECT pg_temp.mem('episodic', 'low', (31 + g || ' days')::interval) FROM generate_series(1, 24) AS g;
UPDATE public.agent_memories SET content = 'poison'
 WHERE id = (SELECT id FROM public.agent_memories WHERE type = 'episodic' AND importance = 'low'
              ORDER BY created_at DESC LIMIT 1);
\o
CREATE FUNCTION pg_temp.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.content = 'poison' THEN
        RAISE EXCEPTION 'poisoned memory %', OLD.id
            USING ERRCODE = 'AB123', DETAIL = 'injected by the test', HINT = 'drop the trigger';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER refuse_poison BEFORE DELETE ON public.agent_memories
    FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_poison();
\set ON_ERROR_STOP 0
CALL agentdb.run_memory_maintenance(10);
\set ON_ERROR_STOP 1
SELECT is(:'LAST_ERROR_SQLSTATE'::text, 'AB123', 'the error is raised again with its own SQLSTATE');
SELECT matches(:'LAST_ERROR_MESSAGE'::text, '^memory policy episodic_low failed: poisoned memory ',
               'and its message, naming the policy (the others ran: policies are isolated)');
CREATE TEMP TABLE failed_run AS
SELECT * FROM agentdb.maintenance_runs ORDER BY id DESC LIMIT 1;
SELECT is((SELECT status FROM failed_run), 'failed', 'the run is recorded as failed');
SELECT matches((SELECT error FROM failed_run),
               '^memory policy episodic_low failed: poisoned memory .* \(injected by the test\) \[SQLSTATE AB123\]$',
               'with the error text, detail and SQLSTATE');
SELECT is((SELECT counts -> 'deleted' ->> 'episodic_low' FROM failed_run), '20',
          'and what the two COMMITted batches deleted');
SELECT is((SELECT count(*) FROM public.agent_memories WHERE type = 'episodic' AND importance = 'low'),
          4::bigint, 'the failed batch was rolled back: 4 rows remain, not fewer');
SELECT ok((SELECT finished_at IS NOT NULL FROM failed_run), 'it is finished');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
          0::bigint, 'the lock was released before raising');
DROP TRIGGER refuse_poison ON public.agent_memories;
CALL agentdb.run_memory_maintenance(10) \gset after_
SELECT results_eq(
    format($$SELECT status, counts -> 'deleted' ->> 'episodic_low' FROM agentdb.maintenance_runs WHERE id = %s$$,
           :after_p_run_id),
    $$VALUES ('succeeded'::text, '4'::text)$$,
    'the next run finishes the job');
SELECT is((SELECT count(*) FROM agentdb.maintenance_runs WHERE status = 'running'), 0::bigint,
          'no run is left running');

-- a failure after a batch's deletions, in the same step (the progress UPDATE
-- of the run row): the recorded counts are those of the COMMITted batches only
\o /dev/null
SELECT pg_temp.mem('episodic', 'low', (31 + g || ' days')::interval) FROM generate_series(1, 25) AS g;
\o
CREATE FUNCTION pg_temp.refuse_second_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'running' AND NEW.counts ->> 'batches' = '2' THEN
        RAISE EXCEPTION 'no second batch' USING ERRCODE = 'AB124';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_second_batch BEFORE UPDATE ON agentdb.maintenance_runs
    FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_second_batch();
\set ON_ERROR_STOP 0
CALL agentdb.run_memory_maintenance(10);
\set ON_ERROR_STOP 1
DROP TRIGGER refuse_second_batch ON agentdb.maintenance_runs;
SELECT is(:'LAST_ERROR_SQLSTATE'::text, 'AB124', 'the progress update failed at the second batch');
SELECT results_eq(
    $$SELECT status, counts -> 'deleted' ->> 'episodic_low', counts ->> 'batches'
        FROM agentdb.maintenance_runs ORDER BY id DESC LIMIT 1$$,
    $$VALUES ('failed'::text, '10'::text, '1'::text)$$,
    'the run records the first batch only: the second one was rolled back, its count too');
SELECT is((SELECT count(*) FROM public.agent_memories WHERE type = 'episodic' AND importance = 'low'),
          15::bigint, 'and the table agrees: 25 - 10');
CALL agentdb.run_memory_maintenance(10) \gset last_
SELECT is((SELECT counts -> 'deleted' ->> 'episodic_low' FROM agentdb.maintenance_runs WHERE id = :last_p_run_id),
          '15', 'the next run deletes the other 15');

-- failures before the first batch: consolidation (revoked from the admin role)
REVOKE EXECUTE ON FUNCTION agentdb.consolidate_memories(uuid) FROM agentdb_admin;
SET ROLE tap_memory_admin;
\set ON_ERROR_STOP 0
CALL agentdb.run_memory_maintenance();
\set ON_ERROR_STOP 1
RESET ROLE;
GRANT EXECUTE ON FUNCTION agentdb.consolidate_memories(uuid) TO agentdb_admin;
SELECT is(:'LAST_ERROR_SQLSTATE'::text, '42501', 'a permission error in consolidation is raised as 42501');
SELECT results_eq(
    'SELECT status, error FROM agentdb.maintenance_runs ORDER BY id DESC LIMIT 1',
    $$VALUES ('failed'::text, 'permission denied for function consolidate_memories [SQLSTATE 42501]'::text)$$,
    'and recorded');
SELECT is((SELECT count(*) FROM agentdb.maintenance_runs), 10::bigint,
          'runs: dry, real, admin, the abandoned one, next, poisoned, after, second batch, last, revoked');
SELECT results_eq(
    'SELECT status, count(*) FROM agentdb.maintenance_runs GROUP BY status ORDER BY status',
    $$VALUES ('failed'::text, 4::bigint), ('succeeded', 6::bigint)$$,
    'four failed (abandoned, poisoned, second batch, revoked), six succeeded');

SELECT * FROM finish();
DROP ROLE tap_memory_admin;
