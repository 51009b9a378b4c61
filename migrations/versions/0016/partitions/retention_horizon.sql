-- agentdb.retention_horizon: the first UTC day whose history every
-- retention policy's table still holds whole: the latest upper bound of a
-- partition retention dropped (agentdb.retention_policies.dropped_before,
-- which agentdb.drop_expired_partitions moves up; a disabled policy's drops
-- are still gone). NULL while retention has dropped nothing. A day before
-- the horizon lacks raw rows by design: verify_execution_stats and
-- check_execution_stats do not look at it, and refresh_execution_stats
-- refuses it (the rollups keep that history). Recorded, not read off the
-- oldest partition: a default partition can hold rows older than every
-- month, and a table adopted whole (0016) starts at MINVALUE.
CREATE OR REPLACE FUNCTION agentdb.retention_horizon()
RETURNS date
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.timezone('UTC', pg_catalog.max(p.dropped_before))::date
      FROM agentdb.retention_policies p;
$$;
COMMENT ON FUNCTION agentdb.retention_horizon() IS
    'First UTC day all retention policy tables still hold: the upper bound of the latest partition retention dropped (NULL: none dropped); execution stats are not verified or rebuilt before it';
REVOKE EXECUTE ON FUNCTION agentdb.retention_horizon() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.retention_horizon() TO agentdb_admin;
