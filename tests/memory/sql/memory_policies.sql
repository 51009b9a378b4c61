-- agentdb.memory_policies: the default rules of the performance plan, the
-- table's shape and constraints, who may edit it.
BEGIN;
SELECT plan(14);

SELECT has_table('agentdb', 'memory_policies', 'agentdb.memory_policies exists');
SELECT columns_are('agentdb', 'memory_policies',
    ARRAY['policy_name', 'memory_type', 'importance', 'age_basis', 'max_age', 'enabled',
          'description', 'updated_at'],
    'its columns');
SELECT col_type_is('agentdb', 'memory_policies', 'max_age', 'interval', 'max_age is an interval');
SELECT col_is_pk('agentdb', 'memory_policies', 'policy_name', 'one row per named rule');
SELECT results_eq(
    $$SELECT policy_name, memory_type, importance, age_basis, max_age, enabled
        FROM agentdb.memory_policies ORDER BY policy_name$$,
    $$VALUES ('episodic_low'::text, 'episodic'::text, 'low'::text, 'created'::text, interval '30 days', true),
             ('long_term_low', 'long_term', 'low', 'last_access', interval '90 days', true),
             ('short_term', 'short_term', NULL, 'created', interval '24 hours', true)$$,
    'the defaults: short_term 24 h; long_term low 90 days since the last access; episodic low 30 days'
);
SELECT col_has_check('agentdb', 'memory_policies', 'memory_type', 'memory_type has a CHECK');
SELECT col_has_check('agentdb', 'memory_policies', 'importance', 'importance has a CHECK');
SELECT col_has_check('agentdb', 'memory_policies', 'age_basis', 'age_basis has a CHECK');
SELECT col_has_check('agentdb', 'memory_policies', 'max_age', 'max_age has a CHECK');
SELECT table_privs_are('agentdb', 'memory_policies', 'agentdb_admin',
    ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'], 'agentdb_admin edits the policies');
SELECT table_privs_are('agentdb', 'memory_policies', 'agentdb_app', ARRAY[]::text[],
    'agentdb_app has no direct access');
SELECT table_privs_are('agentdb', 'memory_policies', 'public', ARRAY[]::text[], 'nor has PUBLIC');

-- the CHECK constraints hold even with the validation trigger out of the way
ALTER TABLE agentdb.memory_policies DISABLE TRIGGER validate_memory_policy;
SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)
      VALUES ('x', 'working', 'created', '1 day')$$,
    '23514', NULL, 'without the trigger, the CHECK on memory_type still refuses a bad type');
SELECT throws_ok(
    $$INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)
      VALUES ('x', 'episodic', 'created', '-1 day')$$,
    '23514', NULL, 'and the CHECK on max_age a negative age');
ALTER TABLE agentdb.memory_policies ENABLE TRIGGER validate_memory_policy;

SELECT * FROM finish();
ROLLBACK;
