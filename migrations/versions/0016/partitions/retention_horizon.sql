-- agentdb.retention_horizon: the first UTC day whose history every
-- retention policy's table still holds whole: the latest, over the tables of
-- agentdb.retention_policies (enabled or not: a disabled policy's drops are
-- still gone), of the start of each one's oldest remaining history. That is
-- the lower bound of its oldest partition, or the oldest row of its DEFAULT
-- partition when that is older (a backfill older than every month: those
-- days are held, not dropped). NULL when no policy's table has a bounded
-- oldest partition (no policy; the tables not partitioned yet; a MINVALUE
-- bound, as 0016 gives the table it adopted). Retention drops whole months,
-- so a day before the horizon lacks raw rows by design:
-- verify_execution_stats and check_execution_stats do not look at it, and
-- refresh_execution_stats refuses it (the rollups keep that history).
-- SECURITY DEFINER: it reads the default partitions' oldest row.
CREATE OR REPLACE FUNCTION agentdb.retention_horizon()
RETURNS date
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_policy record;
    v_oldest timestamptz;
    v_default_oldest timestamptz;
    v_horizon timestamptz;
BEGIN
    FOR v_policy IN
        SELECT p.table_name,
               (SELECT CASE WHEN bool_or(m.lower_bound IS NULL) THEN NULL ELSE min(m.lower_bound) END
                  FROM agentdb.monthly_partitions(p.table_name) m) AS oldest,
               (SELECT c.oid::regclass
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = p.table_name
                   AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT') AS default_partition,
               (SELECT CASE WHEN a.atttypid = 'timestamp with time zone'::regtype
                            THEN format('min(%I)', a.attname)
                            ELSE format('min(%I) AT TIME ZONE ''UTC''', a.attname) END
                  FROM pg_partitioned_table pt
                  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                 WHERE pt.partrelid = p.table_name) AS oldest_key
          FROM agentdb.retention_policies p
    LOOP
        v_oldest := v_policy.oldest;
        CONTINUE WHEN v_oldest IS NULL;
        IF v_policy.default_partition IS NOT NULL THEN
            -- min() of the partition key: an index's first entry
            EXECUTE format('SELECT %s FROM %s', v_policy.oldest_key, v_policy.default_partition)
               INTO v_default_oldest;
            v_oldest := least(v_oldest, v_default_oldest);
        END IF;
        v_horizon := greatest(v_horizon, v_oldest);
    END LOOP;
    RETURN timezone('UTC', v_horizon)::date;
END
$$;
COMMENT ON FUNCTION agentdb.retention_horizon() IS
    'First UTC day all retention policy tables still hold: the latest start of their oldest remaining partitions or default-partition rows (NULL: no bounded partitioned policy table); execution stats are not verified or rebuilt before it';
REVOKE EXECUTE ON FUNCTION agentdb.retention_horizon() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.retention_horizon() TO agentdb_admin;
