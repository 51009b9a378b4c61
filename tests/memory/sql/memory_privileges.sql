-- Privileges of the memory lifecycle: PUBLIC executes none of its routines;
-- a role with only agentdb_app gets SQLSTATE 42501 from every maintenance
-- routine; agentdb_app may call touch_memories; a role with only
-- agentdb_admin runs the maintenance routines without any privilege on the
-- platform's table (the SECURITY DEFINER functions do that work).
BEGIN;
\ir memory_fixture.psql
CREATE ROLE tap_app_only NOLOGIN IN ROLE agentdb_app;
CREATE ROLE tap_admin_only NOLOGIN IN ROLE agentdb_admin;
SELECT plan(31);

SELECT is(count(*), 0::bigint, 'PUBLIC can execute none of the memory routines')
  FROM pg_proc
 WHERE pronamespace = 'agentdb'::regnamespace
   AND proname IN ('build_expiry_predicate', 'touch_memories', 'consolidate_memories',
                   'preview_memory_consolidation', 'preview_memory_cleanup',
                   'cleanup_expired_memories', 'run_memory_maintenance', 'validate_memory_policy')
   AND has_function_privilege('public', oid, 'EXECUTE');
SELECT function_privs_are('agentdb', 'touch_memories', ARRAY['uuid[]'], 'agentdb_app', ARRAY['EXECUTE'],
                          'agentdb_app may call touch_memories');

SET ROLE tap_app_only;
SELECT throws_ok('CALL agentdb.run_memory_maintenance()', '42501',
                 'permission denied for procedure run_memory_maintenance', 'app: run_memory_maintenance');
SELECT throws_ok('CALL agentdb.run_memory_maintenance(100, true)', '42501',
                 'permission denied for procedure run_memory_maintenance', 'app: run_memory_maintenance, dry run');
SELECT throws_ok('SELECT * FROM agentdb.cleanup_expired_memories()', '42501',
                 'permission denied for function cleanup_expired_memories', 'app: cleanup_expired_memories');
SELECT throws_ok('SELECT * FROM agentdb.preview_memory_cleanup()', '42501',
                 'permission denied for function preview_memory_cleanup', 'app: preview_memory_cleanup');
SELECT throws_ok('SELECT agentdb.consolidate_memories()', '42501',
                 'permission denied for function consolidate_memories', 'app: consolidate_memories');
SELECT throws_ok('SELECT agentdb.preview_memory_consolidation()', '42501',
                 'permission denied for function preview_memory_consolidation', 'app: preview_memory_consolidation');
SELECT throws_ok($$SELECT agentdb.build_expiry_predicate('episodic', NULL, 'created', '$1')$$, '42501',
                 'permission denied for function build_expiry_predicate', 'app: build_expiry_predicate');
SELECT throws_ok('SELECT * FROM agentdb.schedule_maintenance()', '42501', NULL, 'app: schedule_maintenance');
SELECT throws_ok('SELECT * FROM agentdb.unschedule_maintenance()', '42501', NULL, 'app: unschedule_maintenance');
SELECT throws_ok('SELECT * FROM agentdb.memory_policies', '42501', NULL, 'app: cannot read the policies');
SELECT throws_ok($$UPDATE agentdb.memory_policies SET max_age = '1 second'$$, '42501', NULL,
                 'app: cannot change the policies');
SELECT throws_ok('SELECT * FROM agentdb.maintenance_runs', '42501', NULL, 'app: cannot read the run log');
-- touch_memories runs with the caller's rights: the app's login role needs UPDATE on the table
SELECT throws_ok('SELECT * FROM agentdb.touch_memories(ARRAY[gen_random_uuid()])', '42501',
                 'permission denied for table agent_memories',
                 'app: touch_memories needs the app''s own UPDATE on agent_memories');
RESET ROLE;
GRANT SELECT, UPDATE ON public.agent_memories TO tap_app_only;
SET ROLE tap_app_only;
SELECT lives_ok('SELECT * FROM agentdb.touch_memories(ARRAY[gen_random_uuid()])',
                'with it, the app records recalls');
RESET ROLE;

-- agentdb_admin: no privilege on agent_memories, yet the maintenance routines work
\o /dev/null
SELECT pg_temp.mem('short_term', 'low', '2 days', NULL, 3);
SELECT pg_temp.mem('short_term', 'low', '2 days');
SELECT pg_temp.mem('episodic', 'low', '40 days');
\o
SELECT is(has_table_privilege('tap_admin_only', 'public.agent_memories', 'SELECT, UPDATE, DELETE'), false,
          'the admin role holds no privilege on agent_memories');
SET ROLE tap_admin_only;
SELECT throws_ok('SELECT count(*) FROM public.agent_memories', '42501', NULL, 'admin: cannot read the table directly');
SELECT is(agentdb.preview_memory_consolidation(), 1, 'admin: preview_memory_consolidation');
SELECT is((SELECT sum(rows_to_delete) FROM agentdb.preview_memory_cleanup()), 3::numeric, 'admin: preview_memory_cleanup');
SELECT is(agentdb.consolidate_memories(), 1, 'admin: consolidate_memories');
SELECT is((SELECT sum(rows_deleted) FROM agentdb.cleanup_expired_memories()), 2::numeric, 'admin: cleanup_expired_memories');
SELECT lives_ok($$UPDATE agentdb.memory_policies SET max_age = '12 hours' WHERE policy_name = 'short_term'$$,
                'admin: edits a policy');
SELECT lives_ok($$SELECT agentdb.finish_run(agentdb.begin_run('agentdb-test'), 'succeeded')$$,
                'admin: logs a run with begin_run/finish_run (the grant 0006 adds)');
SELECT lives_ok('SELECT * FROM agentdb.schedule_maintenance()', 'admin: schedule_maintenance');
SELECT throws_ok('DELETE FROM agentdb.maintenance_runs', '42501', NULL, 'admin: cannot erase the run log');
SELECT throws_ok('SELECT * FROM agentdb.touch_memories(ARRAY[gen_random_uuid()])', '42501',
                 'permission denied for table agent_memories',
                 'admin: touch_memories is the app''s, with the app''s rights');
RESET ROLE;

SELECT is(
    ARRAY(SELECT proname::text FROM pg_proc WHERE pronamespace = 'agentdb'::regnamespace AND prosecdef
            AND proname IN ('build_expiry_predicate', 'touch_memories', 'consolidate_memories',
                            'preview_memory_consolidation', 'preview_memory_cleanup',
                            'cleanup_expired_memories', 'run_memory_maintenance', 'validate_memory_policy')
           ORDER BY 1),
    ARRAY['cleanup_expired_memories', 'consolidate_memories', 'preview_memory_cleanup',
          'preview_memory_consolidation'],
    'exactly four SECURITY DEFINER functions');
SELECT is(count(*), 0::bigint, 'each of them sets search_path = pg_catalog, pg_temp')
  FROM pg_proc
 WHERE pronamespace = 'agentdb'::regnamespace AND prosecdef
   AND proname IN ('consolidate_memories', 'preview_memory_consolidation', 'preview_memory_cleanup',
                   'cleanup_expired_memories')
   AND proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp'];
SELECT is(prokind::text, 'p', 'run_memory_maintenance is a procedure') FROM pg_proc
 WHERE oid = 'agentdb.run_memory_maintenance(integer, boolean, bigint)'::regprocedure;
SELECT is(prosecdef, false, 'and not SECURITY DEFINER (it COMMITs)') FROM pg_proc
 WHERE oid = 'agentdb.run_memory_maintenance(integer, boolean, bigint)'::regprocedure;

SELECT * FROM finish();
ROLLBACK;
