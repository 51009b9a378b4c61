-- agentdb.retention_horizon: the first UTC day whose history every
-- retention policy's table still holds whole: the latest, over the tables of
-- agentdb.retention_policies (enabled or not: a disabled policy's drops are
-- still gone), of the lower bound of each one's oldest remaining partition.
-- NULL when no policy's table has a bounded oldest partition (no policy;
-- the tables not partitioned yet; a MINVALUE bound). Retention drops whole
-- months, and nothing can be written before a table's oldest partition (no
-- default partition), so a day before the horizon lacks raw rows by design:
-- verify_execution_stats and check_execution_stats do not look at it, and
-- refresh_execution_stats refuses it (the rollups keep that history).
CREATE FUNCTION agentdb.retention_horizon()
RETURNS date
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.timezone('UTC', pg_catalog.max(o.oldest))::date
      FROM agentdb.retention_policies p
     CROSS JOIN LATERAL (
        SELECT CASE WHEN pg_catalog.bool_or(m.lower_bound IS NULL) THEN NULL
                    ELSE pg_catalog.min(m.lower_bound) END AS oldest
          FROM agentdb.monthly_partitions(p.table_name) m) o;
$$;
COMMENT ON FUNCTION agentdb.retention_horizon() IS
    'First UTC day all retention policy tables still hold: the latest lower bound of their oldest remaining partitions (NULL: no bounded partitioned policy table); execution stats are not verified or rebuilt before it';
REVOKE EXECUTE ON FUNCTION agentdb.retention_horizon() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.retention_horizon() TO agentdb_admin;
