-- Citus variant (pyglue install --citus) of sql/partitions/create_partitions_ahead.sql:
-- the same partitions, created in citus.multi_shard_modify_mode
-- 'sequential' (this transaction only): Citus distributes a new partition
-- of a distributed table as it is created, and refuses parallel DDL on a
-- table with a foreign key to a reference table (users) once that table
-- was touched in the transaction.
--
-- agentdb.create_partitions_ahead: partition upkeep of one table (monthly
-- RANGE partitions on a timestamp column): make sure the current month
-- (UTC) and the p_premake months after it have a partition. Returns the
-- number of partitions created (p_dry_run: that would be created; nothing
-- is changed). A month some partition already overlaps is left alone.
--
-- Detected at run time (agentdb.partman_available()):
--   with pg_partman 4.7, the table is registered in partman.part_config
--     (native, '1 mon', datetime_string YYYY_MM: its partitions are named
--     <table>_pYYYY_MM as agentdb names them; premake = p_premake; no default
--     partition, no template; retention NULL) and partman.run_maintenance
--     on that table creates them. pg_partman does not drop: its retention
--     DROPs a referenced partition without DETACHing it first, which
--     PostgreSQL refuses while a foreign key depends on it
--     (agent_executions <- execution_metrics), and knows neither the
--     order nor the current-month guard; agentdb.drop_expired_partitions
--     does the dropping in both modes.
--   without it, CREATE TABLE <table>_pYYYY_MM PARTITION OF <table>, one per
--     missing month, bounds [first of month, first of next month) UTC.
-- Creating a partition takes a brief lock on the parent: under
-- p_lock_timeout it gives up (SQLSTATE 55P03) rather than queue the
-- platform's writes behind it. Each new partition is ANALYZEd: the planner
-- takes a never-analyzed empty table for ten pages of rows, and then prefers
-- odd plans for every query that reaches the months ahead. SECURITY
-- DEFINER: the owner of the table creates its partitions.
CREATE OR REPLACE FUNCTION agentdb.create_partitions_ahead(
    p_table regclass,
    p_premake integer DEFAULT 3,
    p_dry_run boolean DEFAULT false,
    p_lock_timeout interval DEFAULT interval '500 milliseconds'
)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_schema name;
    v_name name;
    v_month timestamp;  -- the first of a month, UTC
    v_missing timestamp[] := '{}'::timestamp[];
    v_timezone text := current_setting('timezone');
    v_before bigint;
    v_after bigint;
    v_lock_timeout text := current_setting('lock_timeout');
    v_partman name;
BEGIN
    IF p_table IS NULL OR NOT EXISTS (SELECT FROM agentdb.retention_policies r WHERE r.table_name = p_table) THEN
        RAISE EXCEPTION 'p_table must be a table of agentdb.retention_policies, not %',
            coalesce(p_table::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_premake IS NULL OR p_premake NOT BETWEEN 1 AND 24 THEN
        RAISE EXCEPTION 'p_premake must be a number of months from 1 to 24, not %', coalesce(p_premake::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION 'p_dry_run must be true or false, not NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' OR p_lock_timeout > interval '1 minute' THEN
        RAISE EXCEPTION 'p_lock_timeout must be an interval greater than zero and at most 1 minute, not %',
            coalesce(p_lock_timeout::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname, c.relname INTO v_schema, v_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = p_table;

    FOR v_month IN SELECT generate_series(date_trunc('month', timezone('UTC', now())),
                                          date_trunc('month', timezone('UTC', now()))
                                              + make_interval(months => p_premake),
                                          interval '1 month')
    LOOP
        IF NOT EXISTS (SELECT FROM agentdb.monthly_partitions(p_table) m
                        WHERE coalesce(m.lower_bound < (v_month + interval '1 month') AT TIME ZONE 'UTC', true)
                          AND coalesce(m.upper_bound > v_month AT TIME ZONE 'UTC', true)) THEN
            v_missing := v_missing || v_month;
        END IF;
    END LOOP;
    IF p_dry_run OR cardinality(v_missing) = 0 THEN
        RETURN cardinality(v_missing);
    END IF;

    PERFORM set_config('lock_timeout', (extract(epoch FROM p_lock_timeout) * 1000)::bigint::text, true);
    -- Citus: DDL on partitions of tables with a foreign key to a reference
    -- table (users) must use one connection per node in this transaction
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    IF agentdb.partman_available() THEN
        SELECT count(*) INTO v_before FROM agentdb.monthly_partitions(p_table);
        SELECT n.nspname INTO v_partman
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_partman';
        -- pg_partman names and bounds partitions in the session's time zone
        PERFORM set_config('timezone', 'UTC', true);
        -- dynamic: this function must compile where pg_partman is absent
        EXECUTE format(
            'INSERT INTO %1$I.part_config AS c (parent_table, control, partition_type, partition_interval,
                 premake, retention, retention_keep_table, datetime_string, infinite_time_partitions,
                 jobmon, automatic_maintenance, inherit_fk)
             VALUES ($1, $2, ''native'', ''1 mon'', $3, NULL, false, ''YYYY_MM'', true, false, ''on'', false)
             ON CONFLICT (parent_table) DO UPDATE SET premake = excluded.premake, retention = NULL',
            v_partman)
            USING v_schema || '.' || v_name,
                  (SELECT a.attname FROM pg_partitioned_table pt
                     JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                    WHERE pt.partrelid = p_table),
                  p_premake;
        EXECUTE format('SELECT %I.run_maintenance(p_parent_table := $1, p_jobmon := false)', v_partman)
            USING v_schema || '.' || v_name;
        SELECT count(*) INTO v_after FROM agentdb.monthly_partitions(p_table);
        FOR v_month IN SELECT timezone('UTC', m.lower_bound) FROM agentdb.monthly_partitions(p_table) m
                        WHERE timezone('UTC', m.lower_bound) = ANY (v_missing) LOOP
            EXECUTE format('ANALYZE %I.%I', v_schema, v_name || '_p' || to_char(v_month, 'YYYY_MM'));
        END LOOP;
        PERFORM set_config('timezone', v_timezone, true);
        PERFORM set_config('lock_timeout', v_lock_timeout, true);
        RETURN (v_after - v_before)::integer;
    END IF;

    FOREACH v_month IN ARRAY v_missing LOOP
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
            v_schema, v_name || '_p' || to_char(v_month, 'YYYY_MM'), p_table,
            to_char(v_month, 'YYYY-MM-DD HH24:MI:SS') || '+00',
            to_char(v_month + interval '1 month', 'YYYY-MM-DD HH24:MI:SS') || '+00');
        EXECUTE format('ANALYZE %I.%I', v_schema, v_name || '_p' || to_char(v_month, 'YYYY_MM'));
    END LOOP;
    PERFORM set_config('lock_timeout', v_lock_timeout, true);
    RETURN cardinality(v_missing);
END
$$;
COMMENT ON FUNCTION agentdb.create_partitions_ahead(regclass, integer, boolean, interval) IS
    'Partition upkeep of a retention_policies table: the current month and p_premake months ahead get a partition <table>_pYYYY_MM, through pg_partman''s run_maintenance when it is installed, else by agentdb itself; returns how many were (or, dry run, would be) created';
REVOKE EXECUTE ON FUNCTION agentdb.create_partitions_ahead(regclass, integer, boolean, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.create_partitions_ahead(regclass, integer, boolean, interval) TO agentdb_admin;
