-- agentdb.schedule_maintenance: create or update in pg_cron, by job name,
-- every job in agentdb.scheduled_jobs. Idempotent: cron.schedule() with a
-- job name replaces that job. Without pg_cron: a NOTICE, and nothing changes.
CREATE FUNCTION agentdb.schedule_maintenance()
RETURNS TABLE (job_name text, schedule text, jobid bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_job record;
BEGIN
    IF NOT agentdb.cron_available() THEN
        RAISE NOTICE 'pg_cron is not installed in database %: nothing scheduled; run "pyglue maintain" from another scheduler instead',
            current_database();
        RETURN;
    END IF;
    FOR v_job IN SELECT j.job_name, j.schedule, j.command FROM agentdb.scheduled_jobs j ORDER BY j.job_name LOOP
        job_name := v_job.job_name;
        schedule := v_job.schedule;
        -- dynamic: this function must compile where the cron schema is absent
        EXECUTE 'SELECT cron.schedule($1, $2, $3)'
            INTO jobid
            USING v_job.job_name, v_job.schedule, v_job.command;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agentdb.schedule_maintenance() IS
    'Create or update every agentdb job in pg_cron by name (idempotent); a NOTICE and no change without pg_cron';
REVOKE EXECUTE ON FUNCTION agentdb.schedule_maintenance() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.schedule_maintenance() TO agentdb_admin;
