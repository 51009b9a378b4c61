-- agentdb.run_memory_maintenance: the scheduled entry point of the memory
-- lifecycle (pg_cron: daily 03:00 UTC; elsewhere `pyglue maintain memory`).
--
--   1. On a standby (in recovery) it does nothing: the primary does the work.
--   2. Runs are serialized by a session-level advisory lock on a key derived
--      from the job name. A run that cannot take it logs itself as 'skipped'
--      and returns at once.
--   3. Holding the lock, any run of this job still marked 'running' belongs
--      to a backend that died (terminated, crashed: the lock went with it),
--      so it is closed as 'failed'. Then this run's row is opened.
--   4. consolidate_memories() for every agent, then cleanup_expired_memories()
--      one batch per policy at a time, with a COMMIT after each batch, until
--      every policy's batch comes back short of p_batch_size; each call
--      resumes every policy after the last row its previous batch deleted
--      (its resume_after, kept across the COMMITs). A batch's COMMIT is
--      asynchronous (synchronous_commit off): it does not wait for the WAL
--      flush, which the run's last COMMIT, synchronous, does for every batch
--      before it. A crash can undo the last batches (under a second of them);
--      their rows stay expired and the next run deletes them. Each batch also
--      writes the running totals into the run row, in the same transaction,
--      so an interrupted run's row says exactly what it deleted.
--   5. p_dry_run: records what consolidation and cleanup would each do on
--      their own now (preview_memory_consolidation, preview_memory_cleanup:
--      a short_term memory consolidation would save is also counted under
--      the short_term policy) and changes no memory.
--   6. Policies are isolated: a policy that fails (cleanup_expired_memories and
--      preview_memory_cleanup return its error) is recorded under
--      counts.policy_errors by name while the others go on; the run then ends
--      'failed' with an error naming each failed policy, and that error is
--      raised (with the first failed policy's SQLSTATE) once all is COMMITted.
--   7. An error in any step: the step's subtransaction is rolled back, the run
--      row is closed as 'failed' with the error text and COMMITted, the lock
--      released, and the error raised again with its SQLSTATE.
--
-- It COMMITs, so it must be CALLed outside a transaction block (autocommit,
-- psql, pg_cron); inside one it fails at once (SQLSTATE 2D000) with nothing
-- done and no lock kept. For the same reason it can be neither SECURITY DEFINER nor
-- have a SET search_path clause (PostgreSQL forbids transaction control in
-- both): it runs with its caller's rights, schema-qualifies every name, and
-- pins search_path to pg_catalog, pg_temp itself at the start of every
-- transaction (set_config(..., true) lasts until the next COMMIT), so no
-- operator or function a less privileged role created in a schema on the
-- caller's search_path can stand in for a built-in one. The work on the
-- platform's table is done by SECURITY DEFINER functions, so agentdb_admin
-- needs no privilege on agent_memories; the run log is written through
-- begin_run, record_run_counts, close_abandoned_runs and finish_run, so it
-- needs none on agentdb.maintenance_runs beyond SELECT.
-- p_run_id (INOUT, leave it NULL) returns the id of the run's
-- agentdb.maintenance_runs row; NULL on a standby.
CREATE OR REPLACE PROCEDURE agentdb.run_memory_maintenance(
    p_batch_size integer DEFAULT 5000,
    p_dry_run boolean DEFAULT false,
    INOUT p_run_id bigint DEFAULT NULL
)
LANGUAGE plpgsql
AS $$
DECLARE
    c_job CONSTANT text := 'agentdb-memory-maintenance';
    -- the first 64 bits of md5(job name): stable across servers and versions
    c_lock CONSTANT bigint := ('x' || pg_catalog.substr(pg_catalog.md5(c_job), 1, 16))::bit(64)::bigint;
    -- what is COMMITted; a step works on the v_step_* copies, which are
    -- taken over only once its COMMIT is done (variables are not rolled back)
    v_counts jsonb;
    v_deleted jsonb := '{}'::jsonb;
    v_step_counts jsonb;
    v_step_deleted jsonb;
    v_step_done boolean;
    v_resume jsonb := '{}'::jsonb;
    v_step_resume jsonb;
    v_errors jsonb := '{}'::jsonb;
    v_step_errors jsonb;
    v_policy_failed boolean := false;
    v_bytes jsonb := '{}'::jsonb;
    v_consolidated integer := 0;
    v_batches integer := 0;
    v_abandoned integer := 0;
    v_done boolean := false;
    v_failed boolean := false;
    v_state text;
    v_message text;
    v_detail text;
    v_hint text;
    v_row record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
        RAISE EXCEPTION 'p_batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION 'p_dry_run must be true or false, not NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    p_run_id := NULL;
    -- Fail here, before the lock is taken, when CALLed inside a transaction
    -- block (SQLSTATE 2D000 invalid_transaction_termination): failing at a
    -- later COMMIT would leave this session holding the lock. Outside a block
    -- the CALL is its own transaction and this COMMIT has nothing to commit.
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE NOTICE 'agentdb.run_memory_maintenance: this server is a standby; nothing to do (the primary runs the maintenance)';
        RETURN;
    END IF;

    IF NOT pg_catalog.pg_try_advisory_lock(c_lock) THEN
        p_run_id := agentdb.begin_run(c_job);
        PERFORM agentdb.finish_run(p_run_id, 'skipped',
            pg_catalog.jsonb_build_object('dry_run', p_dry_run,
                'reason', 'another run of ' || c_job || ' holds its advisory lock'));
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        RETURN;
    END IF;

    -- From here on the lock is held: every way out releases it.
    BEGIN
        v_abandoned := agentdb.close_abandoned_runs(c_job);
        p_run_id := agentdb.begin_run(c_job);
        v_counts := pg_catalog.jsonb_build_object('dry_run', p_dry_run, 'batch_size', p_batch_size,
                                                  'abandoned_runs', v_abandoned);
        PERFORM agentdb.record_run_counts(p_run_id, v_counts);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        RAISE;
    END;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

    -- consolidation (dry run: its preview), then the cleanup preview for a dry run
    BEGIN
        v_step_deleted := v_deleted;
        v_step_errors := v_errors;
        IF p_dry_run THEN
            v_consolidated := agentdb.preview_memory_consolidation();
            FOR v_row IN SELECT pv.policy_name, pv.rows_to_delete, pv.approx_bytes, pv.error
                           FROM agentdb.preview_memory_cleanup() AS pv
            LOOP
                IF v_row.error IS NOT NULL THEN
                    v_step_errors := v_step_errors
                        || pg_catalog.jsonb_build_object(v_row.policy_name, v_row.error);
                    CONTINUE;
                END IF;
                v_step_deleted := v_step_deleted
                    || pg_catalog.jsonb_build_object(v_row.policy_name, v_row.rows_to_delete);
                v_bytes := v_bytes || pg_catalog.jsonb_build_object(v_row.policy_name, v_row.approx_bytes);
            END LOOP;
        ELSE
            v_consolidated := agentdb.consolidate_memories();
        END IF;
        v_step_counts := v_counts || pg_catalog.jsonb_build_object(
            'consolidated', v_consolidated, 'deleted', v_step_deleted, 'batches', v_batches);
        IF p_dry_run THEN
            v_step_counts := v_step_counts || pg_catalog.jsonb_build_object('approx_bytes', v_bytes);
        END IF;
        IF v_step_errors <> '{}'::jsonb THEN
            v_step_counts := v_step_counts || pg_catalog.jsonb_build_object('policy_errors', v_step_errors);
        END IF;
        PERFORM agentdb.record_run_counts(p_run_id, v_step_counts);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
        v_failed := true;
    END;
    IF NOT v_failed THEN
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        v_counts := v_step_counts;
        v_deleted := v_step_deleted;
        v_errors := v_step_errors;
        v_done := p_dry_run;
    END IF;

    -- the cleanup: one batch per policy per transaction
    WHILE NOT v_failed AND NOT v_done LOOP
        -- a batch's COMMIT does not wait for its WAL to reach disk; the run's
        -- last COMMIT does, and flushes every batch's with its own
        PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
        BEGIN
            v_step_done := true;
            v_step_deleted := v_deleted;
            v_step_errors := v_errors;
            v_step_resume := v_resume;
            FOR v_row IN SELECT c.policy_name, c.rows_deleted, c.complete, c.error, c.resume_after
                           FROM agentdb.cleanup_expired_memories(p_batch_size, 1, v_resume) AS c
            LOOP
                IF v_row.error IS NOT NULL THEN
                    -- rolled back alone; the other policies go on (it is not retried)
                    v_step_errors := v_step_errors
                        || pg_catalog.jsonb_build_object(v_row.policy_name, v_row.error);
                    CONTINUE;
                END IF;
                v_step_deleted := v_step_deleted || pg_catalog.jsonb_build_object(v_row.policy_name,
                    coalesce((v_step_deleted ->> v_row.policy_name)::bigint, 0) + v_row.rows_deleted);
                v_step_done := v_step_done AND v_row.complete;
                IF v_row.resume_after IS NOT NULL THEN
                    v_step_resume := v_step_resume
                        || pg_catalog.jsonb_build_object(v_row.policy_name, v_row.resume_after);
                END IF;
            END LOOP;
            v_step_counts := v_counts
                || pg_catalog.jsonb_build_object('deleted', v_step_deleted, 'batches', v_batches + 1);
            IF v_step_errors <> '{}'::jsonb THEN
                v_step_counts := v_step_counts
                    || pg_catalog.jsonb_build_object('policy_errors', v_step_errors);
            END IF;
            PERFORM agentdb.record_run_counts(p_run_id, v_step_counts);
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
            v_failed := true;
        END;
        IF NOT v_failed THEN
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            v_counts := v_step_counts;
            v_deleted := v_step_deleted;
            v_errors := v_step_errors;
            v_resume := v_step_resume;
            v_batches := v_batches + 1;
            v_done := v_step_done;
        END IF;
    END LOOP;

    IF v_failed THEN
        -- the failed step was rolled back; v_counts holds what was COMMITted
        BEGIN
            PERFORM agentdb.finish_run(p_run_id, 'failed', v_counts,
                v_message || CASE WHEN v_detail <> '' THEN ' (' || v_detail || ')' ELSE '' END
                          || ' [SQLSTATE ' || v_state || ']');
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            PERFORM pg_catalog.pg_advisory_unlock(c_lock);
            RAISE;
        END;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        IF v_detail <> '' AND v_hint <> '' THEN
            RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, DETAIL = v_detail, HINT = v_hint;
        ELSIF v_detail <> '' THEN
            RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, DETAIL = v_detail;
        ELSIF v_hint <> '' THEN
            RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, HINT = v_hint;
        ELSE
            RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message;
        END IF;
    END IF;

    BEGIN
        IF v_errors = '{}'::jsonb THEN
            PERFORM agentdb.finish_run(p_run_id, 'succeeded', v_counts);
        ELSE
            SELECT pg_catalog.string_agg(
                       pg_catalog.format('memory policy %s failed: %s', e.key, e.value), '; '
                       ORDER BY e.key),
                   (pg_catalog.array_agg(
                       pg_catalog.substring(e.value, '\[SQLSTATE ([0-9A-Z]{5})\]$')
                       ORDER BY e.key))[1]
              INTO v_message, v_state
              FROM pg_catalog.jsonb_each_text(v_errors) AS e;
            PERFORM agentdb.finish_run(p_run_id, 'failed', v_counts, v_message);
            v_policy_failed := true;
        END IF;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        RAISE;
    END;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM pg_catalog.pg_advisory_unlock(c_lock);
    IF v_policy_failed THEN
        RAISE EXCEPTION USING ERRCODE = coalesce(v_state, 'P0001'), MESSAGE = v_message,
            DETAIL = 'The other memory policies ran; the run is recorded as failed in agentdb.maintenance_runs.';
    END IF;
END
$$;
COMMENT ON PROCEDURE agentdb.run_memory_maintenance(integer, boolean, bigint) IS
    'Scheduled memory maintenance: consolidate, then delete expired memories in batches with a COMMIT between batches; serialized by an advisory lock (a concurrent run is logged as skipped), a no-op on a standby, logged in agentdb.maintenance_runs; CALL outside a transaction block';
REVOKE EXECUTE ON PROCEDURE agentdb.run_memory_maintenance(integer, boolean, bigint) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE agentdb.run_memory_maintenance(integer, boolean, bigint) TO agentdb_admin;
