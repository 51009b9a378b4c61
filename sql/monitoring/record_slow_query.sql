-- agentdb.record_slow_query: append one slow statement to agentdb.slow_queries.
-- pyglue.monitoring calls it (buffered, flushed when a connection goes back
-- to the pool) so the app role needs EXECUTE on this routine only, never
-- INSERT on the table: SECURITY DEFINER with a fixed search_path.
-- p_recorded_at (default now) must be finite and at most 5 minutes ahead
-- (clock skew): a row stamped in the future ('infinity', the year 3000) would
-- outlive every purge, which keeps the newest rows.
CREATE OR REPLACE FUNCTION agentdb.record_slow_query(
    p_duration_ms double precision,
    p_statement text,
    p_recorded_at timestamptz DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_duration_ms IS NULL OR p_duration_ms < 0 OR p_duration_ms = 'NaN'::double precision
       OR p_duration_ms = 'Infinity'::double precision THEN
        RAISE EXCEPTION 'p_duration_ms must be a finite number of milliseconds >= 0, not %', p_duration_ms
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_recorded_at IS NOT NULL AND NOT (
        isfinite(p_recorded_at) AND p_recorded_at <= clock_timestamp() + interval '5 minutes'
    ) THEN
        RAISE EXCEPTION 'p_recorded_at must be a finite time at most 5 minutes ahead, not %', p_recorded_at
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_statement IS NULL OR btrim(p_statement) = '' THEN
        RAISE EXCEPTION 'p_statement must be a non-empty statement text'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO agentdb.slow_queries (recorded_at, duration_ms, statement, application_name)
    VALUES (
        coalesce(p_recorded_at, clock_timestamp()),
        p_duration_ms,
        left(p_statement, 2000),
        nullif(current_setting('application_name', true), '')
    )
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION agentdb.record_slow_query(double precision, text, timestamptz) IS
    'Append a slow statement (duration in ms, normalized text truncated to 2000 characters) to agentdb.slow_queries; returns its id';
REVOKE EXECUTE ON FUNCTION agentdb.record_slow_query(double precision, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.record_slow_query(double precision, text, timestamptz) TO agentdb_app;
