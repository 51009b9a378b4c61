-- agentdb.cron_available: is pg_cron installed in this database?
CREATE FUNCTION agentdb.cron_available()
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron');
$$;
COMMENT ON FUNCTION agentdb.cron_available() IS
    'True when the pg_cron extension is installed in this database (scheduling is optional)';
REVOKE EXECUTE ON FUNCTION agentdb.cron_available() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.cron_available() TO agentdb_app;
