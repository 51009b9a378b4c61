-- agentdb.register_job: add a job to agentdb.scheduled_jobs, or change it.
-- Every capability registers its jobs here (its jobs.sql), and every
-- migration that adds or changes a job calls it. A job pg_cron already runs
-- follows at once (cron.schedule() by name replaces it); a job not yet
-- scheduled waits for agentdb.schedule_maintenance(), which stays opt-in.
-- Owner only: pg_cron runs a command as the role that scheduled it.
CREATE OR REPLACE FUNCTION agentdb.register_job(
    p_job_name text,
    p_schedule text,
    p_command text,
    p_description text
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_scheduled boolean := false;
BEGIN
    IF p_job_name IS NULL OR p_job_name !~ '^agentdb-[a-z0-9-]+$' THEN
        RAISE EXCEPTION 'p_job_name must start with agentdb- followed by lower-case letters, digits and dashes, not %',
            coalesce(quote_literal(p_job_name), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_schedule IS NULL OR btrim(p_schedule) = '' THEN
        RAISE EXCEPTION 'p_schedule must be a cron schedule such as ''0 3 * * *'', not %',
            coalesce(quote_literal(p_schedule), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_command IS NULL OR btrim(p_command) = '' THEN
        RAISE EXCEPTION 'p_command must be the SQL the job runs, not %',
            coalesce(quote_literal(p_command), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO agentdb.scheduled_jobs (job_name, schedule, command, description)
    VALUES (p_job_name, p_schedule, p_command, coalesce(p_description, ''))
    ON CONFLICT (job_name) DO UPDATE
        SET schedule = excluded.schedule,
            command = excluded.command,
            description = excluded.description;
    IF agentdb.cron_available() THEN
        -- dynamic: this function must compile where the cron schema is absent
        EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1)'
            INTO v_scheduled
            USING p_job_name;
        IF v_scheduled THEN
            EXECUTE 'SELECT cron.schedule($1, $2, $3)' USING p_job_name, p_schedule, p_command;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION agentdb.register_job(text, text, text, text) IS
    'Add or change an agentdb job in agentdb.scheduled_jobs; a job pg_cron already runs is rescheduled at once';
REVOKE EXECUTE ON FUNCTION agentdb.register_job(text, text, text, text) FROM PUBLIC;
