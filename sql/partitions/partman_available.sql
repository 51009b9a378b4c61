-- agentdb.partman_available: is pg_partman installed in this database?
-- Partition upkeep (agentdb.create_partitions_ahead) hands the tables of
-- agentdb.retention_policies to pg_partman when it is, and creates their
-- partitions itself when it is not; checked at every run, like pg_cron.
CREATE FUNCTION agentdb.partman_available()
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_partman');
$$;
COMMENT ON FUNCTION agentdb.partman_available() IS
    'True when the pg_partman extension is installed in this database (partition upkeep then goes through its run_maintenance)';
REVOKE EXECUTE ON FUNCTION agentdb.partman_available() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.partman_available() TO agentdb_admin;
