-- Citus variant (pyglue install --citus) of sql/stats/fold_stats_batch.sql:
-- the same fold, one user at a time. On Citus a user's deltas, rollup rows,
-- agents and raw executions are co-located, so every statement below is
-- scoped by user_id = v_user and runs whole on the node holding that user
-- (a router query; the single-node batch picks deltas by ctid, which means
-- nothing across shards). A user's pending deltas are folded whole, users in
-- turn until p_batch_size agent or workflow deltas are moved: a batch may
-- exceed p_batch_size by one user's backlog, and comes back short only when
-- the backlog is empty (agentdb.fold_execution_stats stops there).
-- The single-node routine is unchanged: this one is installed by --citus.
--
-- agentdb.fold_stats_batch: move up to p_batch_size pending agent deltas and
-- up to p_batch_size pending workflow deltas into the rollup tables, in the
-- caller's transaction, and return how many deltas it moved.
--
-- The caller holds the fold lock (agentdb.fold_execution_stats,
-- agentdb.fold_stats_if_free): only folds write the rollups, so no two
-- transactions ever update a rollup row at once. The deltas are deleted and
-- added to the rollups in one statement: a reader sees them either pending
-- or folded, never both or neither. Order does not matter (sums; min/max by
-- least/greatest); a key marked duration_removed gets its min/max recomputed
-- from its raw rows afterwards, at a snapshot that includes every delta
-- folded here. Deltas of an agent or user deleted meanwhile are dropped
-- where the rollups' ON DELETE CASCADE would have removed their rows (an
-- agent's deltas still count for its user: history).
CREATE OR REPLACE FUNCTION agentdb.fold_stats_batch(p_batch_size integer)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now timestamp := timezone('utc', now());
    v_user uuid;
    v_moved bigint;
    v_agent_deltas bigint := 0;
    v_workflow_deltas bigint := 0;
    v_users uuid[];
    v_days date[];
    v_subjects uuid[];
BEGIN
    IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
        RAISE EXCEPTION 'p_batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- the users with pending deltas, taken once: deltas arriving meanwhile wait for the next batch
    FOREACH v_user IN ARRAY ARRAY(
        SELECT d.user_id FROM agentdb.agent_stats_deltas d
        UNION
        SELECT w.user_id FROM agentdb.workflow_stats_deltas w)
    LOOP
        EXIT WHEN v_agent_deltas >= p_batch_size OR v_workflow_deltas >= p_batch_size;
        WITH batch AS (
            DELETE FROM agentdb.agent_stats_deltas d
             WHERE d.user_id = v_user
            RETURNING d.*
        ), keyed AS (
            SELECT b.user_id, b.date, b.agent_id, count(*) AS deltas,
                   sum(b.execution_count) AS execution_count, sum(b.success_count) AS success_count,
                   sum(b.failed_count) AS failed_count, sum(b.cancelled_count) AS cancelled_count,
                   sum(b.duration_count) AS duration_count, sum(b.total_duration_ms) AS total_duration_ms,
                   min(b.added_duration_ms) AS min_duration_ms, max(b.added_duration_ms) AS max_duration_ms,
                   bool_or(b.duration_removed) AS duration_removed,
                   sum(b.total_tokens) AS total_tokens, sum(b.total_llm_calls) AS total_llm_calls,
                   sum(b.total_cost) AS total_cost
              FROM batch b
             GROUP BY b.user_id, b.date, b.agent_id
        ), agent_rows AS (
            INSERT INTO public.agent_execution_stats AS s
                (user_id, date, agent_id, execution_count, success_count, failed_count,
                 cancelled_count, duration_count, total_duration_ms, min_duration_ms,
                 max_duration_ms, avg_duration_ms, total_tokens, total_llm_calls, total_cost,
                 created_at, updated_at)
            SELECT k.user_id, k.date, k.agent_id, k.execution_count, k.success_count, k.failed_count,
                   k.cancelled_count, k.duration_count, k.total_duration_ms, k.min_duration_ms,
                   k.max_duration_ms, round(k.total_duration_ms / NULLIF(k.duration_count, 0))::bigint,
                   k.total_tokens, k.total_llm_calls, k.total_cost, v_now, v_now
              FROM keyed k
             WHERE EXISTS (SELECT FROM public.agents a WHERE a.user_id = v_user AND a.id = k.agent_id)
               AND EXISTS (SELECT FROM public.users u WHERE u.id = v_user)
            ON CONFLICT (user_id, date, agent_id) DO UPDATE SET
                execution_count   = s.execution_count + excluded.execution_count,
                success_count     = s.success_count + excluded.success_count,
                failed_count      = s.failed_count + excluded.failed_count,
                cancelled_count   = s.cancelled_count + excluded.cancelled_count,
                duration_count    = s.duration_count + excluded.duration_count,
                total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
                min_duration_ms   = least(s.min_duration_ms, excluded.min_duration_ms),
                max_duration_ms   = greatest(s.max_duration_ms, excluded.max_duration_ms),
                avg_duration_ms   = round((s.total_duration_ms + excluded.total_duration_ms)::numeric
                                          / NULLIF(s.duration_count + excluded.duration_count, 0))::bigint,
                total_tokens      = s.total_tokens + excluded.total_tokens,
                total_llm_calls   = s.total_llm_calls + excluded.total_llm_calls,
                total_cost        = s.total_cost + excluded.total_cost,
                updated_at        = excluded.updated_at
            RETURNING 1
        ), user_rows AS (
            INSERT INTO public.user_execution_stats AS s
                (user_id, date, execution_count, success_count, failed_count,
                 cancelled_count, duration_count, total_duration_ms, min_duration_ms,
                 max_duration_ms, avg_duration_ms, total_tokens, total_llm_calls, total_cost,
                 created_at, updated_at)
            SELECT k.user_id, k.date, sum(k.execution_count), sum(k.success_count), sum(k.failed_count),
                   sum(k.cancelled_count), sum(k.duration_count), sum(k.total_duration_ms),
                   min(k.min_duration_ms), max(k.max_duration_ms),
                   round(sum(k.total_duration_ms) / NULLIF(sum(k.duration_count), 0))::bigint,
                   sum(k.total_tokens), sum(k.total_llm_calls), sum(k.total_cost), v_now, v_now
              FROM keyed k
             WHERE EXISTS (SELECT FROM public.users u WHERE u.id = v_user)
             GROUP BY k.user_id, k.date
            ON CONFLICT (user_id, date) DO UPDATE SET
                execution_count   = s.execution_count + excluded.execution_count,
                success_count     = s.success_count + excluded.success_count,
                failed_count      = s.failed_count + excluded.failed_count,
                cancelled_count   = s.cancelled_count + excluded.cancelled_count,
                duration_count    = s.duration_count + excluded.duration_count,
                total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
                min_duration_ms   = least(s.min_duration_ms, excluded.min_duration_ms),
                max_duration_ms   = greatest(s.max_duration_ms, excluded.max_duration_ms),
                avg_duration_ms   = round((s.total_duration_ms + excluded.total_duration_ms)::numeric
                                          / NULLIF(s.duration_count + excluded.duration_count, 0))::bigint,
                total_tokens      = s.total_tokens + excluded.total_tokens,
                total_llm_calls   = s.total_llm_calls + excluded.total_llm_calls,
                total_cost        = s.total_cost + excluded.total_cost,
                updated_at        = excluded.updated_at
            RETURNING 1
        )
        SELECT coalesce(sum(k.deltas), 0),
               array_agg(k.user_id) FILTER (WHERE k.duration_removed),
               array_agg(k.date) FILTER (WHERE k.duration_removed),
               array_agg(k.agent_id) FILTER (WHERE k.duration_removed)
          INTO v_moved, v_users, v_days, v_subjects
          FROM keyed k;

        v_agent_deltas := v_agent_deltas + v_moved;

        IF v_users IS NOT NULL THEN
            -- a duration stopped counting: min/max of those keys from their raw rows
            UPDATE public.agent_execution_stats s
               SET (min_duration_ms, max_duration_ms) = (
                       SELECT min(e.duration_ms), max(e.duration_ms)
                         FROM public.agent_executions e
                        WHERE e.user_id = s.user_id AND e.agent_id = s.agent_id
                          AND e.started_at >= s.date AND e.started_at < s.date + 1)
              FROM unnest(v_users, v_days, v_subjects) AS r(user_id, date, agent_id)
             WHERE s.user_id = v_user AND s.user_id = r.user_id AND s.date = r.date AND s.agent_id = r.agent_id;
            UPDATE public.user_execution_stats s
               SET (min_duration_ms, max_duration_ms) = (
                       SELECT min(e.duration_ms), max(e.duration_ms)
                         FROM public.agent_executions e
                        WHERE e.user_id = s.user_id
                          AND e.started_at >= s.date AND e.started_at < s.date + 1)
              FROM (SELECT DISTINCT u.user_id, u.date FROM unnest(v_users, v_days) AS u(user_id, date)) r
             WHERE s.user_id = v_user AND s.user_id = r.user_id AND s.date = r.date;
        END IF;

        WITH batch AS (
            DELETE FROM agentdb.workflow_stats_deltas d
             WHERE d.user_id = v_user
            RETURNING d.*
        ), keyed AS (
            SELECT b.user_id, b.date, b.workflow_id, count(*) AS deltas,
                   sum(b.execution_count) AS execution_count, sum(b.success_count) AS success_count,
                   sum(b.failed_count) AS failed_count, sum(b.cancelled_count) AS cancelled_count,
                   sum(b.duration_count) AS duration_count, sum(b.total_duration_ms) AS total_duration_ms,
                   min(b.added_duration_ms) AS min_duration_ms, max(b.added_duration_ms) AS max_duration_ms,
                   bool_or(b.duration_removed) AS duration_removed
              FROM batch b
             GROUP BY b.user_id, b.date, b.workflow_id
        ), workflow_rows AS (
            INSERT INTO public.workflow_execution_stats AS s
                (user_id, date, workflow_id, execution_count, success_count, failed_count,
                 cancelled_count, duration_count, total_duration_ms, min_duration_ms,
                 max_duration_ms, avg_duration_ms, created_at, updated_at)
            SELECT k.user_id, k.date, k.workflow_id, k.execution_count, k.success_count, k.failed_count,
                   k.cancelled_count, k.duration_count, k.total_duration_ms, k.min_duration_ms,
                   k.max_duration_ms, round(k.total_duration_ms / NULLIF(k.duration_count, 0))::bigint,
                   v_now, v_now
              FROM keyed k
             WHERE EXISTS (SELECT FROM public.workflows w WHERE w.user_id = v_user AND w.id = k.workflow_id)
               AND EXISTS (SELECT FROM public.users u WHERE u.id = v_user)
            ON CONFLICT (user_id, date, workflow_id) DO UPDATE SET
                execution_count   = s.execution_count + excluded.execution_count,
                success_count     = s.success_count + excluded.success_count,
                failed_count      = s.failed_count + excluded.failed_count,
                cancelled_count   = s.cancelled_count + excluded.cancelled_count,
                duration_count    = s.duration_count + excluded.duration_count,
                total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
                min_duration_ms   = least(s.min_duration_ms, excluded.min_duration_ms),
                max_duration_ms   = greatest(s.max_duration_ms, excluded.max_duration_ms),
                avg_duration_ms   = round((s.total_duration_ms + excluded.total_duration_ms)::numeric
                                          / NULLIF(s.duration_count + excluded.duration_count, 0))::bigint,
                updated_at        = excluded.updated_at
            RETURNING 1
        )
        SELECT coalesce(sum(k.deltas), 0),
               array_agg(k.user_id) FILTER (WHERE k.duration_removed),
               array_agg(k.date) FILTER (WHERE k.duration_removed),
               array_agg(k.workflow_id) FILTER (WHERE k.duration_removed)
          INTO v_moved, v_users, v_days, v_subjects
          FROM keyed k;
        v_workflow_deltas := v_workflow_deltas + v_moved;

        IF v_users IS NOT NULL THEN
            UPDATE public.workflow_execution_stats s
               SET (min_duration_ms, max_duration_ms) = (
                       SELECT min(e.duration_ms), max(e.duration_ms)
                         FROM public.workflow_executions e
                        WHERE e.user_id = s.user_id AND e.workflow_id = s.workflow_id
                          AND e.started_at >= s.date AND e.started_at < s.date + 1)
              FROM unnest(v_users, v_days, v_subjects) AS r(user_id, date, workflow_id)
             WHERE s.user_id = v_user AND s.user_id = r.user_id AND s.date = r.date AND s.workflow_id = r.workflow_id;
        END IF;
    END LOOP;
    RETURN v_agent_deltas + v_workflow_deltas;
END
$$;
COMMENT ON FUNCTION agentdb.fold_stats_batch(integer) IS
    'Citus: move whole users'' pending agent and workflow stats deltas into the rollups until p_batch_size of either are moved, one router statement per user; otherwise as on a single node: move up to p_batch_size pending agent and workflow stats deltas into the rollups, in the caller''s transaction (the caller holds the fold lock); returns the deltas moved';
REVOKE EXECUTE ON FUNCTION agentdb.fold_stats_batch(integer) FROM PUBLIC;
