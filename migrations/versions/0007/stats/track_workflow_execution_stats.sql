-- agentdb.track_workflow_execution_stats: keep workflow_execution_stats exact
-- as workflow_executions rows are written.
--
-- Same rules and scheme as agentdb.track_agent_execution_stats: a run counts
-- on the UTC day it started, from the insert on; statuses and durations as
-- they are now; a changed day, workflow or user moves the contribution (the
-- two keys locked in key order); counters added in place by one upsert;
-- min/max recomputed from the raw rows of the key only when a duration that
-- was one of them stops counting. No DELETE trigger: retention does not
-- change history.
CREATE FUNCTION agentdb.track_workflow_execution_stats()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_steps integer := 1;
    v_old_first boolean := false;
    v_user uuid;
    v_workflow uuid;
    v_day date;
    v_executions integer;
    v_succeeded integer;
    v_failed integer;
    v_cancelled integer;
    v_durations integer;
    v_duration_sum bigint;
    v_added integer;
    v_removed integer;
    v_now timestamp := timezone('utc', now());
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_user := NEW.user_id; v_workflow := NEW.workflow_id; v_day := NEW.started_at::date;
        v_executions := 1;
        v_succeeded := (NEW.status = 'completed')::integer;
        v_failed := (NEW.status = 'failed')::integer;
        v_cancelled := (NEW.status = 'cancelled')::integer;
        v_durations := (NEW.duration_ms IS NOT NULL)::integer;
        v_duration_sum := coalesce(NEW.duration_ms, 0);
        v_added := NEW.duration_ms;
    ELSIF OLD.user_id = NEW.user_id AND OLD.workflow_id = NEW.workflow_id
          AND OLD.started_at::date = NEW.started_at::date THEN
        v_user := NEW.user_id; v_workflow := NEW.workflow_id; v_day := NEW.started_at::date;
        v_executions := 0;
        v_succeeded := (NEW.status = 'completed')::integer - (OLD.status = 'completed')::integer;
        v_failed := (NEW.status = 'failed')::integer - (OLD.status = 'failed')::integer;
        v_cancelled := (NEW.status = 'cancelled')::integer - (OLD.status = 'cancelled')::integer;
        v_durations := (NEW.duration_ms IS NOT NULL)::integer - (OLD.duration_ms IS NOT NULL)::integer;
        v_duration_sum := coalesce(NEW.duration_ms, 0)::bigint - coalesce(OLD.duration_ms, 0);
        IF OLD.duration_ms IS DISTINCT FROM NEW.duration_ms THEN
            v_added := NEW.duration_ms;
            v_removed := OLD.duration_ms;
        END IF;
    ELSE
        v_steps := 2;
        v_old_first := (OLD.user_id, OLD.started_at::date, OLD.workflow_id)
                     < (NEW.user_id, NEW.started_at::date, NEW.workflow_id);
    END IF;

    FOR v_step IN 1..v_steps LOOP
        IF v_steps = 2 THEN
            IF (v_step = 1) = v_old_first THEN
                v_user := OLD.user_id; v_workflow := OLD.workflow_id; v_day := OLD.started_at::date;
                v_executions := -1;
                v_succeeded := -(OLD.status = 'completed')::integer;
                v_failed := -(OLD.status = 'failed')::integer;
                v_cancelled := -(OLD.status = 'cancelled')::integer;
                v_durations := -(OLD.duration_ms IS NOT NULL)::integer;
                v_duration_sum := -coalesce(OLD.duration_ms, 0)::bigint;
                v_added := NULL;
                v_removed := OLD.duration_ms;
            ELSE
                v_user := NEW.user_id; v_workflow := NEW.workflow_id; v_day := NEW.started_at::date;
                v_executions := 1;
                v_succeeded := (NEW.status = 'completed')::integer;
                v_failed := (NEW.status = 'failed')::integer;
                v_cancelled := (NEW.status = 'cancelled')::integer;
                v_durations := (NEW.duration_ms IS NOT NULL)::integer;
                v_duration_sum := coalesce(NEW.duration_ms, 0);
                v_added := NEW.duration_ms;
                v_removed := NULL;
            END IF;
        END IF;

        INSERT INTO public.workflow_execution_stats AS s
            (user_id, date, workflow_id, execution_count, success_count, failed_count,
             cancelled_count, duration_count, total_duration_ms, min_duration_ms,
             max_duration_ms, avg_duration_ms, created_at, updated_at)
        VALUES
            (v_user, v_day, v_workflow, v_executions, v_succeeded, v_failed,
             v_cancelled, v_durations, v_duration_sum, v_added, v_added,
             CASE WHEN v_durations > 0
                  THEN round(v_duration_sum::numeric / v_durations)::bigint END,
             v_now, v_now)
        ON CONFLICT (user_id, date, workflow_id) DO UPDATE SET
            execution_count   = s.execution_count + excluded.execution_count,
            success_count     = s.success_count + excluded.success_count,
            failed_count      = s.failed_count + excluded.failed_count,
            cancelled_count   = s.cancelled_count + excluded.cancelled_count,
            duration_count    = s.duration_count + excluded.duration_count,
            total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
            min_duration_ms   = least(s.min_duration_ms, excluded.min_duration_ms),
            max_duration_ms   = greatest(s.max_duration_ms, excluded.max_duration_ms),
            avg_duration_ms   = CASE WHEN s.duration_count + excluded.duration_count > 0
                                     THEN round((s.total_duration_ms + excluded.total_duration_ms)::numeric
                                                / (s.duration_count + excluded.duration_count))::bigint END,
            updated_at        = excluded.updated_at;

        IF v_removed IS NOT NULL THEN
            UPDATE public.workflow_execution_stats s
               SET (min_duration_ms, max_duration_ms) = (
                       SELECT min(e.duration_ms), max(e.duration_ms)
                         FROM public.workflow_executions e
                        WHERE e.user_id = v_user
                          AND e.workflow_id = v_workflow
                          AND e.started_at >= v_day
                          AND e.started_at < v_day + 1)
             WHERE s.user_id = v_user AND s.date = v_day AND s.workflow_id = v_workflow
               AND (s.min_duration_ms >= v_removed OR s.max_duration_ms <= v_removed);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.track_workflow_execution_stats() IS
    'Trigger on workflow_executions (insert, counted updates): keep workflow_execution_stats exact; deletes (retention) do not change it';
REVOKE EXECUTE ON FUNCTION agentdb.track_workflow_execution_stats() FROM PUBLIC;

CREATE TRIGGER agentdb_stats_insert
    AFTER INSERT ON public.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION agentdb.track_workflow_execution_stats();
CREATE TRIGGER agentdb_stats_update
    AFTER UPDATE ON public.workflow_executions
    FOR EACH ROW
    WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id
          OR OLD.workflow_id IS DISTINCT FROM NEW.workflow_id
          OR OLD.started_at::date IS DISTINCT FROM NEW.started_at::date
          OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms
          OR (OLD.status IS DISTINCT FROM NEW.status
              AND (OLD.status IN ('completed', 'failed', 'cancelled')
                   OR NEW.status IN ('completed', 'failed', 'cancelled'))))
    EXECUTE FUNCTION agentdb.track_workflow_execution_stats();
