-- agentdb.unregister_job: take a job out of agentdb.scheduled_jobs and out
-- of pg_cron when it runs there. Migrations call it on downgrade; true when
-- the job was registered. Owner only, like register_job.
CREATE OR REPLACE FUNCTION agentdb.unregister_job(p_job_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_scheduled boolean := false;
BEGIN
    IF p_job_name IS NULL THEN
        RAISE EXCEPTION 'p_job_name must be a job name, got NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF agentdb.cron_available() THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1)'
            INTO v_scheduled
            USING p_job_name;
        IF v_scheduled THEN
            EXECUTE 'SELECT cron.unschedule($1)' USING p_job_name;
        END IF;
    END IF;
    DELETE FROM agentdb.scheduled_jobs WHERE job_name = p_job_name;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION agentdb.unregister_job(text) IS
    'Remove an agentdb job from agentdb.scheduled_jobs and from pg_cron; true when it was registered';
REVOKE EXECUTE ON FUNCTION agentdb.unregister_job(text) FROM PUBLIC;
