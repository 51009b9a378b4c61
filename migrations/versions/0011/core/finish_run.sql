-- agentdb.finish_run: close a running run-log row with its outcome.
-- SECURITY DEFINER, like begin_run: a closed row (succeeded, failed,
-- skipped) is never rewritten, so the log cannot be made to say that a failed
-- run succeeded. p_counts must be a JSON object (pyglue reads it as one).
CREATE OR REPLACE FUNCTION agentdb.finish_run(
    p_run_id bigint,
    p_status text,
    p_counts jsonb DEFAULT '{}',
    p_error text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_status IS NULL OR p_status NOT IN ('succeeded', 'failed', 'skipped') THEN
        RAISE EXCEPTION 'p_status must be succeeded, failed or skipped, not %',
            coalesce(quote_literal(p_status), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_counts IS NOT NULL AND jsonb_typeof(p_counts) <> 'object' THEN
        RAISE EXCEPTION 'p_counts must be a JSON object, not %', left(p_counts::text, 100)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE agentdb.maintenance_runs
       SET status = p_status,
           finished_at = clock_timestamp(),
           counts = coalesce(p_counts, '{}'),
           error = p_error
     WHERE id = p_run_id AND status = 'running';
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM agentdb.maintenance_runs WHERE id = p_run_id) THEN
            RAISE EXCEPTION 'p_run_id %: the run is already closed (a closed run is never rewritten)',
                p_run_id USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RAISE EXCEPTION 'p_run_id %: no such maintenance run', p_run_id
            USING ERRCODE = 'no_data_found';
    END IF;
END
$$;
COMMENT ON FUNCTION agentdb.finish_run(bigint, text, jsonb, text) IS
    'Close a maintenance_runs row: succeeded, failed (with the error) or skipped, with its counts';
REVOKE EXECUTE ON FUNCTION agentdb.finish_run(bigint, text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.finish_run(bigint, text, jsonb, text) TO agentdb_admin;
