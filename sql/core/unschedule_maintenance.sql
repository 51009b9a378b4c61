-- agentdb.unschedule_maintenance: remove agentdb's jobs from pg_cron.
CREATE OR REPLACE FUNCTION agentdb.unschedule_maintenance()
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name text;
BEGIN
    IF NOT agentdb.cron_available() THEN
        RAISE NOTICE 'pg_cron is not installed in database %: nothing to unschedule', current_database();
        RETURN;
    END IF;
    FOR v_name IN
        EXECUTE 'SELECT jobname FROM cron.job WHERE jobname IN (SELECT job_name FROM agentdb.scheduled_jobs) ORDER BY jobname'
    LOOP
        EXECUTE 'SELECT cron.unschedule($1)' USING v_name;
        RETURN NEXT v_name;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agentdb.unschedule_maintenance() IS
    'Remove every agentdb job from pg_cron and return their names; a NOTICE and no change without pg_cron';
REVOKE EXECUTE ON FUNCTION agentdb.unschedule_maintenance() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.unschedule_maintenance() TO agentdb_admin;
