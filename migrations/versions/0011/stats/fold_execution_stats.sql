-- agentdb.fold_execution_stats: the scheduled fold (pg_cron job
-- agentdb-execution-stats-fold, every minute; elsewhere `pyglue stats fold`).
-- Moves every pending stats delta into the rollups with
-- agentdb.fold_stats_batch, one COMMITted transaction per batch, until a
-- batch comes back short.
--
--   1. On a standby it does nothing: the primary folds.
--   2. Serialized with every other fold by the fold lock, taken session-level
--      with a try: a run that cannot take it (another run, or a writer's fold
--      in flight) logs itself as 'skipped' and returns at once.
--   3. Holding the lock, any run of this job still marked 'running' belongs
--      to a backend that died, so it is closed as 'failed'
--      (agentdb.close_abandoned_runs). The run log is append-only: counts go
--      through agentdb.record_run_counts, the end through agentdb.finish_run.
--   4. Each batch deletes its deltas and adds them to the rollups in one
--      transaction with the run row's running totals: a run killed mid-batch
--      (terminated, or the server crashed) loses the batch's transaction as a
--      whole, so nothing is lost or counted twice.
--   5. An error: the batch is rolled back, the run row closed as 'failed'
--      with the error, the lock released, the error raised again.
--
-- It COMMITs, so it must be CALLed outside a transaction block; for the same
-- reason it cannot be SECURITY DEFINER or carry SET search_path: it pins
-- search_path itself at the start of every transaction, and the work is done
-- by the SECURITY DEFINER agentdb.fold_stats_batch.
CREATE OR REPLACE PROCEDURE agentdb.fold_execution_stats(
    p_batch_size integer DEFAULT 50000,
    INOUT p_run_id bigint DEFAULT NULL
)
LANGUAGE plpgsql
AS $$
DECLARE
    c_job CONSTANT text := 'agentdb-execution-stats-fold';
    c_lock CONSTANT bigint := ('x' || pg_catalog.substr(pg_catalog.md5(c_job), 1, 16))::bit(64)::bigint;
    v_folded bigint := 0;
    v_batches integer := 0;
    v_batch bigint;
    v_abandoned integer;
    v_state text;
    v_message text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
        RAISE EXCEPTION 'p_batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    p_run_id := NULL;
    -- fails here (2D000) inside a transaction block, before any lock is taken
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE NOTICE 'agentdb.fold_execution_stats: this server is a standby; nothing to do (the primary folds)';
        RETURN;
    END IF;

    IF NOT pg_catalog.pg_try_advisory_lock(c_lock) THEN
        p_run_id := agentdb.begin_run(c_job);
        PERFORM agentdb.finish_run(p_run_id, 'skipped',
            pg_catalog.jsonb_build_object('reason', 'another fold holds the fold lock'));
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        RETURN;
    END IF;

    -- From here on the lock is held: every way out releases it.
    BEGIN
        v_abandoned := agentdb.close_abandoned_runs(c_job);
        p_run_id := agentdb.begin_run(c_job);
        PERFORM agentdb.record_run_counts(p_run_id, pg_catalog.jsonb_build_object(
            'batch_size', p_batch_size, 'abandoned_runs', v_abandoned, 'deltas_folded', 0, 'batches', 0));
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        RAISE;
    END;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

    LOOP
        BEGIN
            v_batch := agentdb.fold_stats_batch(p_batch_size);
            PERFORM agentdb.record_run_counts(p_run_id, pg_catalog.jsonb_build_object(
                'batch_size', p_batch_size, 'abandoned_runs', v_abandoned,
                'deltas_folded', v_folded + v_batch, 'batches', v_batches + 1));
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
        END;
        EXIT WHEN v_state IS NOT NULL;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        v_folded := v_folded + v_batch;
        v_batches := v_batches + 1;
        -- a short batch: the backlog seen is folded (what arrives meanwhile waits for the next run)
        EXIT WHEN v_batch < p_batch_size;
    END LOOP;

    IF v_state IS NOT NULL THEN
        -- the failed batch was rolled back; v_folded counts what was COMMITted
        BEGIN
            PERFORM agentdb.finish_run(p_run_id, 'failed',
                pg_catalog.jsonb_build_object('batch_size', p_batch_size, 'abandoned_runs', v_abandoned,
                    'deltas_folded', v_folded, 'batches', v_batches),
                v_message || ' [SQLSTATE ' || v_state || ']');
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            PERFORM pg_catalog.pg_advisory_unlock(c_lock);
            RAISE;
        END;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message;
    END IF;

    BEGIN
        PERFORM agentdb.finish_run(p_run_id, 'succeeded',
            pg_catalog.jsonb_build_object('batch_size', p_batch_size, 'abandoned_runs', v_abandoned,
                'deltas_folded', v_folded, 'batches', v_batches));
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        RAISE;
    END;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM pg_catalog.pg_advisory_unlock(c_lock);
END
$$;
COMMENT ON PROCEDURE agentdb.fold_execution_stats(integer, bigint) IS
    'Scheduled fold: move every pending execution stats delta into the rollups, one COMMITted batch at a time; serialized by the fold lock (a concurrent run is logged as skipped), a no-op on a standby, logged in agentdb.maintenance_runs; CALL outside a transaction block';
REVOKE EXECUTE ON PROCEDURE agentdb.fold_execution_stats(integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE agentdb.fold_execution_stats(integer, bigint) TO agentdb_admin;
