-- agentdb.validate_memory_policy (trigger on agentdb.memory_policies): a bad
-- memory type, importance, age basis, max age or name is refused with an
-- error naming the column and the allowed values; good rows pass and get
-- updated_at stamped.
BEGIN;
SELECT plan(15);

SELECT has_trigger('agentdb', 'memory_policies', 'validate_memory_policy', 'the trigger is installed');

SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)
      VALUES ('bad_type', 'working', 'created', '1 day')$$,
    '23514', 'memory_policies.memory_type must be short_term, long_term or episodic, not ''working''',
    'an unknown memory type is refused, naming the column');
SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance, age_basis, max_age)
      VALUES ('bad_importance', 'episodic', 'critical', 'created', '1 day')$$,
    '23514', 'memory_policies.importance must be low, medium, high or NULL (any importance), not ''critical''',
    'an unknown importance is refused, naming the column');
SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)
      VALUES ('bad_basis', 'episodic', 'updated', '1 day')$$,
    '23514', 'memory_policies.age_basis must be created or last_access, not ''updated''',
    'an unknown age basis is refused, naming the column');
SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)
      VALUES ('zero_age', 'episodic', 'created', '0 seconds')$$,
    '23514', 'memory_policies.max_age must be an interval greater than zero and at most 100 years, not ''00:00:00''',
    'a zero max age is refused');
SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)
      VALUES ('negative_age', 'episodic', 'created', '-3 days')$$,
    '23514', 'memory_policies.max_age must be an interval greater than zero and at most 100 years, not ''-3 days''',
    'a negative max age is refused');
SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)
      VALUES ('Bad Name', 'episodic', 'created', '3 days')$$,
    '23514', 'memory_policies.policy_name must be lower-case letters, digits and underscores, starting with a letter, not ''Bad Name''',
    'a policy name that would be an awkward jsonb key is refused');
SELECT throws_ok(
    $$UPDATE agentdb.memory_policies SET importance = 'LOW' WHERE policy_name = 'episodic_low'$$,
    '23514', 'memory_policies.importance must be low, medium, high or NULL (any importance), not ''LOW''',
    'an UPDATE is checked too (values are case-sensitive)');
SELECT throws_ok(
    $$UPDATE agentdb.memory_policies SET memory_type = NULL WHERE policy_name = 'episodic_low'$$,
    '23514', 'memory_policies.memory_type must be short_term, long_term or episodic, not NULL',
    'a NULL memory type is refused by name');

-- the error fields name the column, for clients that read them
CREATE FUNCTION pg_temp.failing_column(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v_column text;
BEGIN
    EXECUTE p_sql;
    RETURN NULL;
EXCEPTION WHEN check_violation THEN
    GET STACKED DIAGNOSTICS v_column = COLUMN_NAME;
    RETURN v_column;
END $$;
SELECT is(pg_temp.failing_column(
    $$UPDATE agentdb.memory_policies SET age_basis = 'x' WHERE policy_name = 'short_term'$$),
    'age_basis', 'the error''s COLUMN field is set');

SELECT lives_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance, age_basis, max_age)
      VALUES ('long_term_medium_2y', 'long_term', 'medium', 'last_access', '2 years')$$,
    'a good policy is accepted');
SELECT lives_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance, age_basis, max_age)
      VALUES ('episodic_any', 'episodic', NULL, 'created', '1 year')$$,
    'importance NULL (any) is accepted');
SELECT cmp_ok((SELECT updated_at FROM agentdb.memory_policies WHERE policy_name = 'episodic_any'),
              '>=', now(), 'updated_at is stamped on insert');
UPDATE agentdb.memory_policies SET updated_at = '2000-01-01', enabled = false WHERE policy_name = 'episodic_any';
SELECT cmp_ok((SELECT updated_at FROM agentdb.memory_policies WHERE policy_name = 'episodic_any'),
              '>=', now(), 'and on update, whatever the statement said');
SELECT is(
    (SELECT array_agg(c) FROM pg_proc, unnest(proconfig) c
      WHERE oid = 'agentdb.validate_memory_policy()'::regprocedure),
    ARRAY['search_path=pg_catalog, pg_temp'], 'the trigger function sets its search_path');

SELECT * FROM finish();
ROLLBACK;
