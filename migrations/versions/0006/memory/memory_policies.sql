-- agentdb.memory_policies: the rules that keep public.agent_memories bounded.
-- One row per rule, edited by DBAs (agentdb_admin); cleanup_expired_memories()
-- and preview_memory_cleanup() read the enabled rows in policy_name order.
-- The CHECK constraints are the guarantee; the trigger
-- agentdb.validate_memory_policy() (validate_memory_policy.sql) runs
-- first and turns a bad value into an error naming the column and the
-- allowed values.
--
-- A rule deletes memories of one type (and one importance, or any when
-- importance is NULL) whose age exceeds max_age, the age counted
--   'created':     since created_at
--   'last_access': since the last recall, coalesce(last_accessed_at, created_at),
--                  so a memory never recalled ages from its creation.
-- Each rule's shape has a partial index on agent_memories
-- (sql/platform/indexes.sql);
-- a new shape needs a new partial index, or its cleanup scans the table.

CREATE TABLE agentdb.memory_policies (
    policy_name  text PRIMARY KEY,
    memory_type  text NOT NULL,
    importance   text,
    age_basis    text NOT NULL,
    max_age      interval NOT NULL,
    enabled      boolean NOT NULL DEFAULT true,
    description  text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT memory_policies_policy_name_check CHECK (policy_name ~ '^[a-z][a-z0-9_]{0,62}$'),
    CONSTRAINT memory_policies_memory_type_check
        CHECK (memory_type IN ('short_term', 'long_term', 'episodic')),
    CONSTRAINT memory_policies_importance_check CHECK (importance IN ('low', 'medium', 'high')),
    CONSTRAINT memory_policies_age_basis_check CHECK (age_basis IN ('created', 'last_access')),
    CONSTRAINT memory_policies_max_age_check CHECK (max_age > interval '0')
);

COMMENT ON TABLE agentdb.memory_policies IS
    'Memory retention rules: delete agent_memories of memory_type (and importance, NULL = any) older than max_age, counted from creation or from the last access; edited by agentdb_admin';
COMMENT ON COLUMN agentdb.memory_policies.policy_name IS
    'Name of the rule (lower case, digits, underscores); the key of its counts in maintenance_runs.counts';
COMMENT ON COLUMN agentdb.memory_policies.memory_type IS 'short_term, long_term or episodic';
COMMENT ON COLUMN agentdb.memory_policies.importance IS 'low, medium or high; NULL means any importance';
COMMENT ON COLUMN agentdb.memory_policies.age_basis IS
    'created: age since created_at; last_access: age since coalesce(last_accessed_at, created_at)';
COMMENT ON COLUMN agentdb.memory_policies.max_age IS 'Memories older than this (strictly) are deleted; > 0';
COMMENT ON COLUMN agentdb.memory_policies.enabled IS 'Disabled rules are neither previewed nor applied';

INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance, age_basis, max_age, description)
VALUES
    ('short_term', 'short_term', NULL, 'created', interval '24 hours',
     'Short-term memories live one day; consolidation first promotes those recalled 3 or more times'),
    ('long_term_low', 'long_term', 'low', 'last_access', interval '90 days',
     'Low-importance long-term memories not recalled for 90 days (never recalled: 90 days after creation)'),
    ('episodic_low', 'episodic', 'low', 'created', interval '30 days',
     'Low-importance episodic memories live 30 days');

GRANT SELECT, INSERT, UPDATE, DELETE ON agentdb.memory_policies TO agentdb_admin;
