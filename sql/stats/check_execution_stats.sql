-- agentdb.check_execution_stats: the nightly check (pg_cron job
-- agentdb-execution-stats-check, 02:00 UTC). Verifies one UTC day
-- (default: yesterday) against the raw rows and, when anything drifted (a
-- trigger disabled for a bulk load, a restored backup, a manual fix), rebuilds
-- that day with agentdb.refresh_execution_stats. Logged in
-- agentdb.maintenance_runs with counts {day, rows_checked, rows_differing,
-- rows_repaired}; a second concurrent run is 'skipped' (advisory lock), and
-- so is a day before agentdb.retention_horizon(): retention dropped its raw
-- rows, the rollups keep its history (a rebuild would zero it).
-- A function, not a procedure: one day is one short transaction, and a
-- function may be SECURITY DEFINER (the caller needs no table privileges).
CREATE OR REPLACE FUNCTION agentdb.check_execution_stats(
    p_day date DEFAULT (timezone('utc', now()))::date - 1
)
RETURNS TABLE (run_id bigint, status text, day date, rows_checked bigint,
               rows_differing bigint, rows_repaired bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    c_job CONSTANT text := 'agentdb-execution-stats-check';
    v_run bigint;
    v_checked bigint := 0;
    v_differing bigint := 0;
    v_repaired bigint := 0;
    v_horizon date;
BEGIN
    IF p_day IS NULL OR NOT isfinite(p_day) OR p_day < '0001-01-01' THEN
        RAISE EXCEPTION 'p_day must be a finite date AD (default: yesterday, UTC), got %',
            coalesce(p_day::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_run := agentdb.begin_run(c_job);
    run_id := v_run;
    day := p_day;
    IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext(c_job)) THEN
        PERFORM agentdb.finish_run(v_run, 'skipped',
            jsonb_build_object('day', p_day, 'reason', 'another check is running'));
        status := 'skipped'; rows_checked := 0; rows_differing := 0; rows_repaired := 0;
        RETURN NEXT;
        RETURN;
    END IF;
    v_horizon := agentdb.retention_horizon();
    IF v_horizon IS NOT NULL AND p_day < v_horizon THEN
        PERFORM agentdb.finish_run(v_run, 'skipped',
            jsonb_build_object('day', p_day, 'reason',
                format('%s is before the retention horizon %s: its raw rows were dropped, its rollups are kept',
                       p_day, v_horizon)));
        status := 'skipped'; rows_checked := 0; rows_differing := 0; rows_repaired := 0;
        RETURN NEXT;
        RETURN;
    END IF;
    BEGIN
        SELECT (SELECT count(*) FROM public.agent_execution_stats a WHERE a.date = p_day)
             + (SELECT count(*) FROM public.user_execution_stats u WHERE u.date = p_day)
             + (SELECT count(*) FROM public.workflow_execution_stats w WHERE w.date = p_day)
          INTO v_checked;
        SELECT count(*) INTO v_differing FROM agentdb.verify_execution_stats(p_day, p_day);
        IF v_differing > 0 THEN
            SELECT coalesce(sum(r.rows_deleted + r.rows_written), 0)
              INTO v_repaired
              FROM agentdb.refresh_execution_stats(p_day, p_day) r;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        PERFORM agentdb.finish_run(v_run, 'failed',
            jsonb_build_object('day', p_day), SQLERRM);
        status := 'failed'; rows_checked := v_checked; rows_differing := v_differing;
        rows_repaired := 0;
        RETURN NEXT;
        RETURN;
    END;
    PERFORM agentdb.finish_run(v_run, 'succeeded',
        jsonb_build_object('day', p_day, 'rows_checked', v_checked,
                           'rows_differing', v_differing, 'rows_repaired', v_repaired));
    status := 'succeeded'; rows_checked := v_checked; rows_differing := v_differing;
    rows_repaired := v_repaired;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agentdb.check_execution_stats(date) IS
    'Nightly check: verify one UTC day of execution stats (default yesterday) against the raw rows and rebuild it when it drifted (skipped before the retention horizon); logged in agentdb.maintenance_runs';
REVOKE EXECUTE ON FUNCTION agentdb.check_execution_stats(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.check_execution_stats(date) TO agentdb_admin;
