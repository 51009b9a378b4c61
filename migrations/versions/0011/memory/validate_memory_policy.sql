-- agentdb.validate_memory_policy: BEFORE INSERT OR UPDATE on
-- agentdb.memory_policies. The table's CHECK constraints would refuse the
-- same rows, but their message names a constraint; this one names the column
-- and the allowed values (SQLSTATE 23514 check_violation, with the column and
-- table set in the error fields). It also stamps updated_at. max_age is at
-- most 100 years: a longer one puts the cut-off before the first timestamp
-- PostgreSQL can hold, and every cleanup of that policy would fail.
CREATE OR REPLACE FUNCTION agentdb.validate_memory_policy()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.policy_name IS NULL OR NEW.policy_name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'memory_policies.policy_name must be lower-case letters, digits and underscores, starting with a letter, not %',
            coalesce(quote_literal(NEW.policy_name), 'NULL')
            USING ERRCODE = 'check_violation', COLUMN = 'policy_name',
                  TABLE = 'memory_policies', SCHEMA = 'agentdb';
    END IF;
    IF NEW.memory_type IS NULL OR NEW.memory_type NOT IN ('short_term', 'long_term', 'episodic') THEN
        RAISE EXCEPTION 'memory_policies.memory_type must be short_term, long_term or episodic, not %',
            coalesce(quote_literal(NEW.memory_type), 'NULL')
            USING ERRCODE = 'check_violation', COLUMN = 'memory_type',
                  TABLE = 'memory_policies', SCHEMA = 'agentdb';
    END IF;
    IF NEW.importance IS NOT NULL AND NEW.importance NOT IN ('low', 'medium', 'high') THEN
        RAISE EXCEPTION 'memory_policies.importance must be low, medium, high or NULL (any importance), not %',
            quote_literal(NEW.importance)
            USING ERRCODE = 'check_violation', COLUMN = 'importance',
                  TABLE = 'memory_policies', SCHEMA = 'agentdb';
    END IF;
    IF NEW.age_basis IS NULL OR NEW.age_basis NOT IN ('created', 'last_access') THEN
        RAISE EXCEPTION 'memory_policies.age_basis must be created or last_access, not %',
            coalesce(quote_literal(NEW.age_basis), 'NULL')
            USING ERRCODE = 'check_violation', COLUMN = 'age_basis',
                  TABLE = 'memory_policies', SCHEMA = 'agentdb';
    END IF;
    IF NEW.max_age IS NULL OR NEW.max_age <= interval '0' OR NEW.max_age > interval '100 years' THEN
        RAISE EXCEPTION 'memory_policies.max_age must be an interval greater than zero and at most 100 years, not %',
            coalesce(quote_literal(NEW.max_age::text), 'NULL')
            USING ERRCODE = 'check_violation', COLUMN = 'max_age',
                  TABLE = 'memory_policies', SCHEMA = 'agentdb';
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agentdb.validate_memory_policy() IS
    'Trigger on agentdb.memory_policies: refuse a bad memory_type, importance, age_basis or max_age (> 0, at most 100 years) with an error naming the column and the allowed values; stamp updated_at';

CREATE OR REPLACE TRIGGER validate_memory_policy
    BEFORE INSERT OR UPDATE ON agentdb.memory_policies
    FOR EACH ROW EXECUTE FUNCTION agentdb.validate_memory_policy();

REVOKE EXECUTE ON FUNCTION agentdb.validate_memory_policy() FROM PUBLIC;
