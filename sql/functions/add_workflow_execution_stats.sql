-- agentdb.add_workflow_execution_stats: apply one delta to the rollup of a
-- (workflow, user, UTC day) in workflow_execution_stats.
--
-- Called by the trigger on workflow_executions, inside the writing
-- transaction. Same scheme as agentdb.add_agent_execution_stats: counters
-- are added by one upsert; min/max are recomputed from the raw rows of the
-- key only when a duration that may have been one of them stops counting.
CREATE FUNCTION agentdb.add_workflow_execution_stats(
    p_user_id uuid,
    p_workflow_id uuid,
    p_day date,
    p_executions integer,
    p_succeeded integer,
    p_failed integer,
    p_cancelled integer,
    p_durations integer,
    p_duration_sum bigint,
    p_added_duration integer,
    p_removed_duration integer
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now timestamp := timezone('utc', now());
BEGIN
    INSERT INTO public.workflow_execution_stats AS s
        (user_id, date, workflow_id, execution_count, success_count, failed_count,
         cancelled_count, duration_count, total_duration_ms, min_duration_ms,
         max_duration_ms, created_at, updated_at)
    VALUES
        (p_user_id, p_day, p_workflow_id, p_executions, p_succeeded, p_failed,
         p_cancelled, p_durations, p_duration_sum, p_added_duration,
         p_added_duration, v_now, v_now)
    ON CONFLICT (user_id, date, workflow_id) DO UPDATE SET
        execution_count   = s.execution_count + excluded.execution_count,
        success_count     = s.success_count + excluded.success_count,
        failed_count      = s.failed_count + excluded.failed_count,
        cancelled_count   = s.cancelled_count + excluded.cancelled_count,
        duration_count    = s.duration_count + excluded.duration_count,
        total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
        min_duration_ms   = least(s.min_duration_ms, excluded.min_duration_ms),
        max_duration_ms   = greatest(s.max_duration_ms, excluded.max_duration_ms),
        updated_at        = excluded.updated_at;

    IF p_removed_duration IS NOT NULL THEN
        UPDATE public.workflow_execution_stats s
           SET (min_duration_ms, max_duration_ms) = (
                   SELECT min(e.duration_ms), max(e.duration_ms)
                     FROM public.workflow_executions e
                    WHERE e.user_id = p_user_id
                      AND e.workflow_id = p_workflow_id
                      AND e.started_at >= p_day
                      AND e.started_at < p_day + 1)
         WHERE s.user_id = p_user_id AND s.date = p_day AND s.workflow_id = p_workflow_id
           AND (s.min_duration_ms >= p_removed_duration OR s.max_duration_ms <= p_removed_duration);
    END IF;
END
$$;
COMMENT ON FUNCTION agentdb.add_workflow_execution_stats(uuid, uuid, date, integer, integer, integer, integer, integer, bigint, integer, integer) IS
    'Internal (called by the stats trigger): add a delta to workflow_execution_stats for one workflow, user and UTC day; recompute min/max when a counted duration is removed';
REVOKE EXECUTE ON FUNCTION agentdb.add_workflow_execution_stats(uuid, uuid, date, integer, integer, integer, integer, integer, bigint, integer, integer) FROM PUBLIC;
