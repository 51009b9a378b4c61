-- agentdb.run_retention_maintenance: the scheduled entry point of retention
-- (pg_cron: daily 04:15 UTC; elsewhere `pyglue maintain retention`).
--
--   1. On a standby (in recovery) it does nothing: the primary does the work.
--   2. Runs are serialized by a session-level advisory lock on a key derived
--      from the job name. A run that cannot take it logs itself as 'skipped'
--      and returns at once.
--   3. Holding the lock, any run of this job still marked 'running' belongs
--      to a backend that died, so it is closed as 'failed'. Then this run's
--      row is opened (counts.upkeep_method: pg_partman or agentdb).
--   4. Upkeep, one transaction: agentdb.create_partitions_ahead for every
--      enabled policy's table (counts.created, per table).
--   5. Retention: the months agentdb.expired_partitions lists, oldest first,
--      one transaction per month (agentdb.drop_expired_partitions: a
--      referencing table's partition before the referenced one's, each
--      under p_lock_timeout), the running totals written into the run row
--      in the same transaction (counts.dropped: per table, the partitions,
--      rows and bytes), so an interrupted run's row says what it dropped.
--      The partition holding the current month is never dropped.
--   6. p_dry_run: records what upkeep would create and what
--      agentdb.preview_retention says would be dropped; changes nothing.
--   7. An error in any step (a lock_timeout included: the next run retries):
--      the step is rolled back, the run row closed as 'failed' with the
--      error text and COMMITted, the lock released, and the error raised
--      again with its SQLSTATE.
--
-- It COMMITs, so it must be CALLed outside a transaction block; inside one
-- it fails at once (SQLSTATE 2D000) with nothing done and no lock kept. For
-- the same reason it has no SET search_path clause: it pins search_path to
-- pg_catalog, pg_temp itself at the start of every transaction and
-- schema-qualifies every name. The partitions are created and dropped by
-- SECURITY DEFINER functions; the run log is written through begin_run,
-- record_run_counts, close_abandoned_runs and finish_run.
-- p_run_id (INOUT, leave it NULL) returns the id of the run's
-- agentdb.maintenance_runs row; NULL on a standby.
CREATE PROCEDURE agentdb.run_retention_maintenance(
    p_dry_run boolean DEFAULT false,
    p_lock_timeout interval DEFAULT interval '500 milliseconds',
    INOUT p_run_id bigint DEFAULT NULL
)
LANGUAGE plpgsql
AS $$
DECLARE
    c_job CONSTANT text := 'agentdb-retention-maintenance';
    -- the first 64 bits of md5(job name): stable across servers and versions
    c_lock CONSTANT bigint := ('x' || pg_catalog.substr(pg_catalog.md5(c_job), 1, 16))::bit(64)::bigint;
    v_counts jsonb;
    v_step_counts jsonb;
    v_created jsonb := '{}'::jsonb;
    v_dropped jsonb := '{}'::jsonb;
    v_step_dropped jsonb;
    v_entry jsonb;
    v_months timestamptz[];
    v_month timestamptz;
    v_abandoned integer := 0;
    v_failed boolean := false;
    v_state text;
    v_message text;
    v_detail text;
    v_hint text;
    v_row record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION 'p_dry_run must be true or false, not NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' OR p_lock_timeout > interval '1 minute' THEN
        RAISE EXCEPTION 'p_lock_timeout must be an interval greater than zero and at most 1 minute, not %',
            coalesce(p_lock_timeout::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    p_run_id := NULL;
    -- Fail here, before the lock is taken, when CALLed inside a transaction block.
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE NOTICE 'agentdb.run_retention_maintenance: this server is a standby; nothing to do (the primary runs the maintenance)';
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
        v_counts := pg_catalog.jsonb_build_object('dry_run', p_dry_run,
            'lock_timeout', p_lock_timeout::text, 'abandoned_runs', v_abandoned,
            'upkeep_method', CASE WHEN agentdb.partman_available() THEN 'pg_partman' ELSE 'agentdb' END);
        PERFORM agentdb.record_run_counts(p_run_id, v_counts);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        RAISE;
    END;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

    -- upkeep (dry run: what it would create, and what retention would drop)
    BEGIN
        FOR v_row IN SELECT p.table_name, p.premake FROM agentdb.retention_policies p
                      WHERE p.enabled ORDER BY p.table_name::text
        LOOP
            v_created := v_created || pg_catalog.jsonb_build_object(v_row.table_name::text,
                agentdb.create_partitions_ahead(v_row.table_name, v_row.premake, p_dry_run, p_lock_timeout));
        END LOOP;
        v_step_counts := v_counts || pg_catalog.jsonb_build_object('created', v_created);
        IF p_dry_run THEN
            FOR v_row IN SELECT pv.table_name, pv.partitions, pv.rows_to_drop, pv.bytes_to_drop
                           FROM agentdb.preview_retention() pv
            LOOP
                v_dropped := v_dropped || pg_catalog.jsonb_build_object(v_row.table_name::text,
                    pg_catalog.jsonb_build_object('partitions', pg_catalog.to_jsonb(v_row.partitions),
                        'rows', v_row.rows_to_drop, 'bytes', v_row.bytes_to_drop));
            END LOOP;
        ELSE
            SELECT pg_catalog.array_agg(DISTINCT e.lower_bound ORDER BY e.lower_bound)
              INTO v_months
              FROM agentdb.expired_partitions(pg_catalog.now()) e;
        END IF;
        v_step_counts := v_step_counts || pg_catalog.jsonb_build_object('dropped', v_dropped);
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
    END IF;

    -- retention: one month per transaction, oldest first
    IF NOT v_failed AND NOT p_dry_run AND v_months IS NOT NULL THEN
        FOREACH v_month IN ARRAY v_months LOOP
            BEGIN
                v_step_dropped := v_dropped;
                FOR v_row IN SELECT d.table_name, d.partition_name, d.rows_dropped, d.bytes_dropped
                               FROM agentdb.drop_expired_partitions(v_month, p_lock_timeout) d
                LOOP
                    v_entry := coalesce(v_step_dropped -> (v_row.table_name::text),
                        '{"partitions": [], "rows": 0, "bytes": 0}'::jsonb);
                    v_step_dropped := v_step_dropped || pg_catalog.jsonb_build_object(v_row.table_name::text,
                        pg_catalog.jsonb_build_object(
                            'partitions', (v_entry -> 'partitions') || pg_catalog.to_jsonb(v_row.partition_name),
                            'rows', (v_entry ->> 'rows')::bigint + v_row.rows_dropped,
                            'bytes', (v_entry ->> 'bytes')::bigint + v_row.bytes_dropped));
                END LOOP;
                v_step_counts := v_counts || pg_catalog.jsonb_build_object('dropped', v_step_dropped);
                PERFORM agentdb.record_run_counts(p_run_id, v_step_counts);
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                v_failed := true;
            END;
            EXIT WHEN v_failed;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            v_counts := v_step_counts;
            v_dropped := v_step_dropped;
        END LOOP;
    END IF;
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
        PERFORM agentdb.finish_run(p_run_id, 'succeeded', v_counts);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        PERFORM pg_catalog.pg_advisory_unlock(c_lock);
        RAISE;
    END;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM pg_catalog.pg_advisory_unlock(c_lock);
END
$$;
COMMENT ON PROCEDURE agentdb.run_retention_maintenance(boolean, interval, bigint) IS
    'Scheduled retention: create partitions ahead (pg_partman when installed), then drop the expired months one transaction each, referencing tables first, under a lock_timeout; never the current month; serialized by an advisory lock, a no-op on a standby, logged in agentdb.maintenance_runs; CALL outside a transaction block';
REVOKE EXECUTE ON PROCEDURE agentdb.run_retention_maintenance(boolean, interval, bigint) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE agentdb.run_retention_maintenance(boolean, interval, bigint) TO agentdb_admin;
