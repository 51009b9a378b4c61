-- agentdb.add_agent_execution_stats: apply one delta to the rollups of an
-- (agent, user, UTC day): agent_execution_stats, then user_execution_stats.
--
-- Called by the triggers on agent_executions and execution_metrics, inside
-- the writing transaction, so the rollups are exact at every commit.
-- Counters are added (INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x):
-- one upsert per table, no read-modify-write race, and the row lock taken
-- by the upsert serializes concurrent writers of the same key. Locks are
-- always taken agent row first, then user row, so two writers cannot wait
-- on each other in opposite orders.
-- min/max cannot be "subtracted": when a duration that may have been the
-- minimum or maximum stops counting (status back-and-forth, a moved run),
-- they are recomputed from the raw rows of that key (an index range scan of
-- one agent's day) and the user's from its agents' rows.
CREATE FUNCTION agentdb.add_agent_execution_stats(
    p_user_id uuid,
    p_agent_id uuid,
    p_day date,
    p_executions integer,
    p_succeeded integer,
    p_failed integer,
    p_cancelled integer,
    p_durations integer,
    p_duration_sum bigint,
    p_added_duration integer,
    p_removed_duration integer,
    p_tokens bigint,
    p_llm_calls bigint,
    p_cost numeric
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now timestamp := timezone('utc', now());
BEGIN
    INSERT INTO public.agent_execution_stats AS s
        (user_id, date, agent_id, execution_count, success_count, failed_count,
         cancelled_count, duration_count, total_duration_ms, min_duration_ms,
         max_duration_ms, total_tokens, total_llm_calls, total_cost, created_at, updated_at)
    VALUES
        (p_user_id, p_day, p_agent_id, p_executions, p_succeeded, p_failed,
         p_cancelled, p_durations, p_duration_sum, p_added_duration,
         p_added_duration, p_tokens, p_llm_calls, p_cost, v_now, v_now)
    ON CONFLICT (user_id, date, agent_id) DO UPDATE SET
        execution_count   = s.execution_count + excluded.execution_count,
        success_count     = s.success_count + excluded.success_count,
        failed_count      = s.failed_count + excluded.failed_count,
        cancelled_count   = s.cancelled_count + excluded.cancelled_count,
        duration_count    = s.duration_count + excluded.duration_count,
        total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
        min_duration_ms   = least(s.min_duration_ms, excluded.min_duration_ms),
        max_duration_ms   = greatest(s.max_duration_ms, excluded.max_duration_ms),
        total_tokens      = s.total_tokens + excluded.total_tokens,
        total_llm_calls   = s.total_llm_calls + excluded.total_llm_calls,
        total_cost        = s.total_cost + excluded.total_cost,
        updated_at        = excluded.updated_at;

    INSERT INTO public.user_execution_stats AS s
        (user_id, date, execution_count, success_count, failed_count,
         cancelled_count, duration_count, total_duration_ms, min_duration_ms,
         max_duration_ms, total_tokens, total_llm_calls, total_cost, created_at, updated_at)
    VALUES
        (p_user_id, p_day, p_executions, p_succeeded, p_failed,
         p_cancelled, p_durations, p_duration_sum, p_added_duration,
         p_added_duration, p_tokens, p_llm_calls, p_cost, v_now, v_now)
    ON CONFLICT (user_id, date) DO UPDATE SET
        execution_count   = s.execution_count + excluded.execution_count,
        success_count     = s.success_count + excluded.success_count,
        failed_count      = s.failed_count + excluded.failed_count,
        cancelled_count   = s.cancelled_count + excluded.cancelled_count,
        duration_count    = s.duration_count + excluded.duration_count,
        total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
        min_duration_ms   = least(s.min_duration_ms, excluded.min_duration_ms),
        max_duration_ms   = greatest(s.max_duration_ms, excluded.max_duration_ms),
        total_tokens      = s.total_tokens + excluded.total_tokens,
        total_llm_calls   = s.total_llm_calls + excluded.total_llm_calls,
        total_cost        = s.total_cost + excluded.total_cost,
        updated_at        = excluded.updated_at;

    IF p_removed_duration IS NOT NULL THEN
        -- only when the removed duration was (or tied) the minimum or maximum
        UPDATE public.agent_execution_stats s
           SET (min_duration_ms, max_duration_ms) = (
                   SELECT min(e.duration_ms), max(e.duration_ms)
                     FROM public.agent_executions e
                    WHERE e.user_id = p_user_id
                      AND e.agent_id = p_agent_id
                      AND e.started_at >= p_day
                      AND e.started_at < p_day + 1)
         WHERE s.user_id = p_user_id AND s.date = p_day AND s.agent_id = p_agent_id
           AND (s.min_duration_ms >= p_removed_duration OR s.max_duration_ms <= p_removed_duration);
        IF FOUND THEN
            UPDATE public.user_execution_stats u
               SET (min_duration_ms, max_duration_ms) = (
                       SELECT min(a.min_duration_ms), max(a.max_duration_ms)
                         FROM public.agent_execution_stats a
                        WHERE a.user_id = p_user_id AND a.date = p_day)
             WHERE u.user_id = p_user_id AND u.date = p_day;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION agentdb.add_agent_execution_stats(uuid, uuid, date, integer, integer, integer, integer, integer, bigint, integer, integer, bigint, bigint, numeric) IS
    'Internal (called by the stats triggers): add a delta to agent_execution_stats and user_execution_stats for one agent, user and UTC day; recompute min/max when a counted duration is removed';
REVOKE EXECUTE ON FUNCTION agentdb.add_agent_execution_stats(uuid, uuid, date, integer, integer, integer, integer, integer, bigint, integer, integer, bigint, bigint, numeric) FROM PUBLIC;
