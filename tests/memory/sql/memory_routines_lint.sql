-- Hygiene of the memory lifecycle's routines: each has a COMMENT, each
-- function sets search_path (the procedure cannot: it COMMITs), and
-- plpgsql_check finds no error in the PL/pgSQL ones.
BEGIN;
SELECT plan(9);

CREATE TEMP TABLE routines AS
SELECT p.oid::regprocedure AS routine, p.prokind, p.proconfig, l.lanname
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'agentdb'::regnamespace
   AND p.proname IN ('build_expiry_predicate', 'touch_memories', 'consolidate_memories',
                     'preview_memory_consolidation', 'preview_memory_cleanup',
                     'cleanup_expired_memories', 'run_memory_maintenance', 'validate_memory_policy');

SELECT is(count(*), 8::bigint, 'eight routines') FROM routines;
SELECT is(array_agg(routine::text), NULL, 'every routine has a COMMENT')
  FROM routines WHERE obj_description(routine, 'pg_proc') IS NULL;
SELECT is(array_agg(routine::text), NULL, 'every function sets search_path = pg_catalog, pg_temp')
  FROM routines WHERE prokind = 'f' AND proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp'];

CREATE EXTENSION IF NOT EXISTS plpgsql_check;
SELECT is_empty(
    format($$SELECT message FROM plpgsql_check_function_tb(%s::regprocedure, %s, extra_warnings => true)
              WHERE level IN ('error', 'warning')$$,
           quote_literal(routine::text),
           CASE WHEN routine::text = 'agentdb.validate_memory_policy()'
                THEN quote_literal('agentdb.memory_policies') || '::regclass' ELSE '0' END),
    'plpgsql_check: no error or warning in ' || routine::text)
  FROM routines
 WHERE lanname = 'plpgsql'
 ORDER BY routine::text;

SELECT * FROM finish();
ROLLBACK;
