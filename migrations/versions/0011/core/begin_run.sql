-- agentdb.begin_run: open a row in the run log and return its id.
-- SECURITY DEFINER: the run log is append-only for every role but its owner
-- (agentdb_admin only SELECTs it); jobs write it through agentdb's routines.
CREATE OR REPLACE FUNCTION agentdb.begin_run(p_job_name text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_job_name IS NULL OR btrim(p_job_name) = '' OR length(p_job_name) > 200 THEN
        RAISE EXCEPTION 'p_job_name must be a job name of 1 to 200 characters, not %',
            coalesce(quote_literal(left(p_job_name, 50)), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO agentdb.maintenance_runs (job_name) VALUES (p_job_name) RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION agentdb.begin_run(text) IS
    'Open a maintenance_runs row (status running) for a job and return its id';
REVOKE EXECUTE ON FUNCTION agentdb.begin_run(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.begin_run(text) TO agentdb_admin;
