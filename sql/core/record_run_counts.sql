-- agentdb.record_run_counts: a running job's counts so far, written into its
-- run-log row between batches (the row then says what an interrupted run did).
-- SECURITY DEFINER, like begin_run: only a running row changes.
CREATE FUNCTION agentdb.record_run_counts(p_run_id bigint, p_counts jsonb)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_counts IS NULL OR jsonb_typeof(p_counts) <> 'object' THEN
        RAISE EXCEPTION 'p_counts must be a JSON object, not %', coalesce(left(p_counts::text, 100), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE agentdb.maintenance_runs SET counts = p_counts
     WHERE id = p_run_id AND status = 'running';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'p_run_id %: no running maintenance run', p_run_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;
COMMENT ON FUNCTION agentdb.record_run_counts(bigint, jsonb) IS
    'Write a running maintenance_runs row''s counts so far (a JSON object); closed rows never change';
REVOKE EXECUTE ON FUNCTION agentdb.record_run_counts(bigint, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.record_run_counts(bigint, jsonb) TO agentdb_admin;
