-- Citus variant (pyglue install --citus) of sql/stats/fold_stats_if_free.sql:
-- called from a stats trigger it does nothing. On Citus the trigger runs on
-- the worker holding the shard, inside the coordinator's statement, and a
-- fold reads the deltas of every shard: a distributed query Citus does not
-- run from a shard (and the fold lock is an advisory lock of one node). The
-- pg_cron fold (agentdb.fold_execution_stats, every minute, on the
-- coordinator) or `pyglue stats fold` keeps the backlog short instead;
-- reads stay exact whatever its size. Called directly on the coordinator
-- it folds as on a single node.
--
-- agentdb.fold_stats_if_free: a writer's share of the folding. The stats
-- triggers call it about once every thousand deltas, so the backlog a read
-- adds up stays near that size between the pg_cron folds however fast one
-- user writes.
--
-- It never waits: it folds only if it gets the fold lock at once
-- (transaction-level: held until the writer commits, so no other fold can
-- touch the deltas and rollup rows this one changed before they are
-- visible), and a lock the batch would need anyway (an agent being deleted)
-- gives up after 100 ms. Any error rolls back the fold alone, never the
-- writer's transaction. Outside READ COMMITTED it does nothing: a
-- transaction snapshot could predate another fold's commit.
CREATE OR REPLACE FUNCTION agentdb.fold_stats_if_free()
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_job CONSTANT text := 'agentdb-execution-stats-fold';
    c_lock CONSTANT bigint := ('x' || substr(md5(c_job), 1, 16))::bit(64)::bigint;
    c_batch_size CONSTANT integer := 20000;
    v_lock_timeout text;
    v_folded bigint := 0;
BEGIN
    IF pg_trigger_depth() > 0 THEN
        RETURN 0;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock(c_lock) THEN
        RETURN 0;
    END IF;
    v_lock_timeout := current_setting('lock_timeout');
    PERFORM set_config('lock_timeout', '100ms', true);
    BEGIN
        v_folded := agentdb.fold_stats_batch(c_batch_size);
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'agentdb: folding execution stats deltas failed (the next fold retries): % [SQLSTATE %]',
            SQLERRM, SQLSTATE;
    END;
    PERFORM set_config('lock_timeout', v_lock_timeout, true);
    RETURN v_folded;
END
$$;
COMMENT ON FUNCTION agentdb.fold_stats_if_free() IS
    'Fold a batch of pending execution stats deltas in the caller''s transaction if the fold lock is free right now (never waits); returns the deltas moved';
REVOKE EXECUTE ON FUNCTION agentdb.fold_stats_if_free() FROM PUBLIC;
