-- agentdb.purge_slow_queries: keep agentdb.slow_queries bounded, by age and
-- by row count (a burst of slow statements must not grow it without limit
-- between two runs). Serialized by an advisory lock: a concurrent run is
-- logged as 'skipped'. Every run is logged in agentdb.maintenance_runs.
-- SECURITY DEFINER: agentdb_admin may run it without DELETE on the table or
-- INSERT on the run log (it is a function, it does not COMMIT).
CREATE FUNCTION agentdb.purge_slow_queries(
    p_keep interval DEFAULT interval '7 days',
    p_max_rows integer DEFAULT 100000
)
RETURNS TABLE (status text, deleted_by_age bigint, deleted_by_count bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_run bigint;
    v_cutoff_at timestamptz;
    v_cutoff_id bigint;
BEGIN
    IF p_keep IS NULL OR p_keep <= interval '0' THEN
        RAISE EXCEPTION 'p_keep must be a positive interval (e.g. ''7 days''), not %', p_keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_rows IS NULL OR p_max_rows < 1 THEN
        RAISE EXCEPTION 'p_max_rows must be an integer >= 1, not %', p_max_rows
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_run := agentdb.begin_run('agentdb-purge-slow-queries');
    IF NOT pg_try_advisory_xact_lock(hashtext('agentdb-purge-slow-queries')) THEN
        PERFORM agentdb.finish_run(v_run, 'skipped');
        RETURN QUERY SELECT 'skipped'::text, 0::bigint, 0::bigint;
        RETURN;
    END IF;

    DELETE FROM agentdb.slow_queries s WHERE s.recorded_at < clock_timestamp() - p_keep;
    GET DIAGNOSTICS deleted_by_age = ROW_COUNT;

    -- the newest p_max_rows stay: find the newest row past them, delete it
    -- and everything older
    SELECT s.recorded_at, s.id INTO v_cutoff_at, v_cutoff_id
      FROM agentdb.slow_queries s
     ORDER BY s.recorded_at DESC, s.id DESC
    OFFSET p_max_rows LIMIT 1;
    deleted_by_count := 0;
    IF v_cutoff_id IS NOT NULL THEN
        DELETE FROM agentdb.slow_queries s
         WHERE (s.recorded_at, s.id) <= (v_cutoff_at, v_cutoff_id);
        GET DIAGNOSTICS deleted_by_count = ROW_COUNT;
    END IF;

    status := 'succeeded';
    PERFORM agentdb.finish_run(
        v_run, 'succeeded',
        jsonb_build_object('deleted_by_age', deleted_by_age, 'deleted_by_count', deleted_by_count));
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agentdb.purge_slow_queries(interval, integer) IS
    'Delete slow_queries rows older than p_keep, then all but the newest p_max_rows; logged in maintenance_runs (skipped when another run holds the lock)';
REVOKE EXECUTE ON FUNCTION agentdb.purge_slow_queries(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.purge_slow_queries(interval, integer) TO agentdb_admin;
