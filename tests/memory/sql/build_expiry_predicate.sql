-- agentdb.build_expiry_predicate: the WHERE clause and age expression of
-- each policy shape, spelled to match the partial indexes, and bad input.
BEGIN;
SELECT plan(10);

SELECT results_eq(
    $$SELECT predicate, age_expression FROM agentdb.build_expiry_predicate('short_term', NULL, 'created', '$1')$$,
    $$VALUES ('type = ''short_term'' AND created_at < $1'::text, 'created_at'::text)$$,
    'any importance, since creation');
SELECT results_eq(
    $$SELECT predicate, age_expression FROM agentdb.build_expiry_predicate('long_term', 'low', 'last_access', '$1')$$,
    $$VALUES ('type = ''long_term'' AND importance = ''low'' AND coalesce(last_accessed_at, created_at) < $1'::text,
              'coalesce(last_accessed_at, created_at)'::text)$$,
    'since the last access, never accessed counting from creation');
SELECT results_eq(
    $$SELECT predicate FROM agentdb.build_expiry_predicate('episodic', 'low', 'created', '$1[3]')$$,
    $$VALUES ('type = ''episodic'' AND importance = ''low'' AND created_at < $1[3]'::text)$$,
    'an array element as the cut-off');
-- the index definitions of migrations 0006 and 0021 use the same expressions
SELECT ok(pg_get_indexdef('public.ix_agent_memories_long_term_low_accessed_id'::regclass)
              LIKE '%(COALESCE(last_accessed_at, created_at), id)%',
          'the long_term_low index is on the same age expression');
SELECT is(pg_get_expr(indpred, indrelid), $$((type)::text = 'short_term'::text)$$,
          'the short_term index predicate is the policy''s type test')
  FROM pg_index WHERE indexrelid = 'public.ix_agent_memories_short_term_created_id'::regclass;

SELECT throws_ok($$SELECT agentdb.build_expiry_predicate('working', NULL, 'created', '$1')$$,
    '22023', 'p_memory_type must be short_term, long_term or episodic, not ''working''', 'bad type');
SELECT throws_ok($$SELECT agentdb.build_expiry_predicate('episodic', 'urgent', 'created', '$1')$$,
    '22023', 'p_importance must be low, medium, high or NULL (any), not ''urgent''', 'bad importance');
SELECT throws_ok($$SELECT agentdb.build_expiry_predicate('episodic', 'low', 'updated', '$1')$$,
    '22023', 'p_age_basis must be created or last_access, not ''updated''', 'bad age basis');
SELECT throws_ok($$SELECT agentdb.build_expiry_predicate('episodic', 'low', 'created', 'now()')$$,
    '22023', 'p_cutoff must be a parameter reference such as $1 or $1[2], not ''now()''',
    'the cut-off cannot smuggle SQL in');
SELECT is(provolatile, 'i', 'IMMUTABLE') FROM pg_proc
 WHERE oid = 'agentdb.build_expiry_predicate(text, text, text, text)'::regprocedure;

SELECT * FROM finish();
ROLLBACK;
