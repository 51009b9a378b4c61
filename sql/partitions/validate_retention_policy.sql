-- agentdb.validate_retention_policy: BEFORE INSERT OR UPDATE on
-- agentdb.retention_policies. Refuses, with an error naming the column
-- (SQLSTATE 23514 check_violation, column and table in the error fields):
--   table_name: NULL; not partitioned by RANGE on one column of type
--     timestamp or timestamptz; not owned by the owner of schema agentdb
--     (the partitions are dropped by agentdb's SECURITY DEFINER routines,
--     so a policy cannot reach a table agentdb does not own); a name too
--     long to take the _pYYYY_MM suffix within 63 characters;
--   keep: NULL, under 1 day or over 100 years;
--   premake: NULL or outside 1..24.
-- It also stamps updated_at.
CREATE OR REPLACE FUNCTION agentdb.validate_retention_policy()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_strategy "char";
    v_columns integer;
    v_type regtype;
    v_owner oid;
    v_name name;
BEGIN
    IF NEW.table_name IS NULL THEN
        RAISE EXCEPTION 'retention_policies.table_name must name a table partitioned by RANGE on one timestamp column, not NULL'
            USING ERRCODE = 'check_violation', COLUMN = 'table_name',
                  TABLE = 'retention_policies', SCHEMA = 'agentdb';
    END IF;
    SELECT pt.partstrat, pt.partnatts, a.atttypid::regtype, c.relowner, c.relname
      INTO v_strategy, v_columns, v_type, v_owner, v_name
      FROM pg_class c
      LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
     WHERE c.oid = NEW.table_name;
    IF v_strategy IS DISTINCT FROM 'r' OR v_columns <> 1
       OR v_type NOT IN ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype) THEN
        RAISE EXCEPTION 'retention_policies.table_name must name a table partitioned by RANGE on one timestamp column; % is not',
            NEW.table_name::text
            USING ERRCODE = 'check_violation', COLUMN = 'table_name',
                  TABLE = 'retention_policies', SCHEMA = 'agentdb';
    END IF;
    IF v_owner <> (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'agentdb') THEN
        RAISE EXCEPTION 'retention_policies.table_name must name a table owned by the owner of schema agentdb; % is not',
            NEW.table_name::text
            USING ERRCODE = 'check_violation', COLUMN = 'table_name',
                  TABLE = 'retention_policies', SCHEMA = 'agentdb';
    END IF;
    IF octet_length(v_name) > 54 THEN
        RAISE EXCEPTION 'retention_policies.table_name must be at most 54 bytes long (its partitions add _pYYYY_MM); % is not',
            NEW.table_name::text
            USING ERRCODE = 'check_violation', COLUMN = 'table_name',
                  TABLE = 'retention_policies', SCHEMA = 'agentdb';
    END IF;
    IF NEW.keep IS NULL OR NEW.keep < interval '1 day' OR NEW.keep > interval '100 years' THEN
        RAISE EXCEPTION 'retention_policies.keep must be an interval of at least 1 day and at most 100 years, not %',
            coalesce(quote_literal(NEW.keep::text), 'NULL')
            USING ERRCODE = 'check_violation', COLUMN = 'keep',
                  TABLE = 'retention_policies', SCHEMA = 'agentdb';
    END IF;
    IF NEW.premake IS NULL OR NEW.premake NOT BETWEEN 1 AND 24 THEN
        RAISE EXCEPTION 'retention_policies.premake must be a number of months from 1 to 24, not %',
            coalesce(NEW.premake::text, 'NULL')
            USING ERRCODE = 'check_violation', COLUMN = 'premake',
                  TABLE = 'retention_policies', SCHEMA = 'agentdb';
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agentdb.validate_retention_policy() IS
    'Trigger on agentdb.retention_policies: refuse a table that is not range-partitioned on one timestamp column (or not agentdb''s owner''s), a keep NULL or outside 1 day..100 years, a premake outside 1..24, with an error naming the column; stamp updated_at';

CREATE OR REPLACE TRIGGER validate_retention_policy
    BEFORE INSERT OR UPDATE ON agentdb.retention_policies
    FOR EACH ROW EXECUTE FUNCTION agentdb.validate_retention_policy();

REVOKE EXECUTE ON FUNCTION agentdb.validate_retention_policy() FROM PUBLIC;
