-- agentdb.track_agent_execution_stats: keep agent_execution_stats and
-- user_execution_stats exact as agent_executions rows are written.
--
-- A run counts on the UTC day it STARTED (started_at::date; started_at is
-- UTC): one execution from the insert on (pending or running included), one
-- success/failure/cancellation while its status says so (back and forth
-- included), its duration once set. When started_at's day, agent_id or
-- user_id changes, the whole contribution, LLM usage from execution_metrics
-- included, moves from the old key to the new one. There is deliberately no
-- DELETE trigger: deleting raw executions (retention) does not change
-- history already rolled up.
--
-- How: counters are added in place (UPDATE ... SET x = x + delta, or for
-- a key's first run INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x)
-- inside the writing transaction: no read-modify-write race, and the row
-- lock serializes concurrent writers of the same key until they commit.
-- That is the price: concurrent writes for one user's day queue on its
-- user row for the rest of each other's transaction, commit flush included
-- (pyglue/bench/stats_bench.py measures it). Every path locks the agent row
-- before the user row, and a moved run locks its two keys in key order, so
-- single-run writes never wait on each other in a cycle (a transaction that
-- writes runs of several keys in varying order can deadlock with another,
-- as it could on any shared rows).
-- min/max cannot be "subtracted": when a duration that was (or tied) the
-- minimum or maximum stops counting, they are recomputed from the raw rows
-- of that agent's day (index range scan) and the user's from its agents'.
-- The work is inline (no nested function call) and the common writes set
-- only the counters they change: this runs on every insert and completion
-- of the platform's hottest table. The WHEN clauses keep updates that
-- change nothing counted (output_data, pending -> running...) from calling
-- it at all.
CREATE FUNCTION agentdb.track_agent_execution_stats()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_steps integer := 1;
    v_old_first boolean := false;
    v_user uuid;
    v_agent uuid;
    v_day date;
    v_executions integer;
    v_succeeded integer;
    v_failed integer;
    v_cancelled integer;
    v_durations integer;
    v_duration_sum bigint;
    v_added integer;
    v_removed integer;
    v_tokens bigint := 0;
    v_llm_calls bigint := 0;
    v_cost numeric := 0;
    v_usage_tokens bigint;
    v_usage_llm_calls bigint;
    v_usage_cost numeric;
    v_now timestamp := timezone('utc', now());
    v_agent_done boolean;
    v_user_done boolean;
BEGIN
    -- fastest path, the platform's every run: a pending/running insert only
    -- adds one execution to rows that exist after the day's first run
    IF TG_OP = 'INSERT' AND NEW.duration_ms IS NULL AND NEW.status IN ('pending', 'running') THEN
        UPDATE public.agent_execution_stats s
           SET execution_count = s.execution_count + 1, updated_at = v_now
         WHERE s.user_id = NEW.user_id AND s.date = NEW.started_at::date
           AND s.agent_id = NEW.agent_id;
        IF FOUND THEN
            UPDATE public.user_execution_stats s
               SET execution_count = s.execution_count + 1, updated_at = v_now
             WHERE s.user_id = NEW.user_id AND s.date = NEW.started_at::date;
            IF NOT FOUND THEN
                INSERT INTO public.user_execution_stats AS s
                    (user_id, date, execution_count, created_at, updated_at)
                VALUES (NEW.user_id, NEW.started_at::date, 1, v_now, v_now)
                ON CONFLICT (user_id, date) DO UPDATE SET
                    execution_count = s.execution_count + 1, updated_at = excluded.updated_at;
            END IF;
            RETURN NULL;
        END IF;
    END IF;

    IF TG_OP = 'INSERT' THEN
        v_user := NEW.user_id; v_agent := NEW.agent_id; v_day := NEW.started_at::date;
        v_executions := 1;
        v_succeeded := (NEW.status = 'completed')::integer;
        v_failed := (NEW.status = 'failed')::integer;
        v_cancelled := (NEW.status = 'cancelled')::integer;
        v_durations := (NEW.duration_ms IS NOT NULL)::integer;
        v_duration_sum := coalesce(NEW.duration_ms, 0);
        v_added := NEW.duration_ms;
    ELSIF OLD.user_id = NEW.user_id AND OLD.agent_id = NEW.agent_id
          AND OLD.started_at::date = NEW.started_at::date THEN
        -- same key: one delta, new minus old
        v_user := NEW.user_id; v_agent := NEW.agent_id; v_day := NEW.started_at::date;
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
        -- the key changed: take the whole contribution, LLM usage included, from
        -- the old key and give it to the new one, the smaller key first
        v_steps := 2;
        v_old_first := (OLD.user_id, OLD.started_at::date, OLD.agent_id)
                     < (NEW.user_id, NEW.started_at::date, NEW.agent_id);
        SELECT m.total_tokens, m.llm_call_count, m.cost
          INTO v_usage_tokens, v_usage_llm_calls, v_usage_cost
          FROM public.execution_metrics m
         WHERE m.execution_id = NEW.id;
        IF NOT FOUND THEN
            v_usage_tokens := 0; v_usage_llm_calls := 0; v_usage_cost := 0;
        END IF;
    END IF;

    FOR v_step IN 1..v_steps LOOP
        IF v_steps = 2 THEN
            IF (v_step = 1) = v_old_first THEN
                v_user := OLD.user_id; v_agent := OLD.agent_id; v_day := OLD.started_at::date;
                v_executions := -1;
                v_succeeded := -(OLD.status = 'completed')::integer;
                v_failed := -(OLD.status = 'failed')::integer;
                v_cancelled := -(OLD.status = 'cancelled')::integer;
                v_durations := -(OLD.duration_ms IS NOT NULL)::integer;
                v_duration_sum := -coalesce(OLD.duration_ms, 0)::bigint;
                v_added := NULL;
                v_removed := OLD.duration_ms;
                v_tokens := -v_usage_tokens;
                v_llm_calls := -v_usage_llm_calls;
                v_cost := -v_usage_cost;
            ELSE
                v_user := NEW.user_id; v_agent := NEW.agent_id; v_day := NEW.started_at::date;
                v_executions := 1;
                v_succeeded := (NEW.status = 'completed')::integer;
                v_failed := (NEW.status = 'failed')::integer;
                v_cancelled := (NEW.status = 'cancelled')::integer;
                v_durations := (NEW.duration_ms IS NOT NULL)::integer;
                v_duration_sum := coalesce(NEW.duration_ms, 0);
                v_added := NEW.duration_ms;
                v_removed := NULL;
                v_tokens := v_usage_tokens;
                v_llm_calls := v_usage_llm_calls;
                v_cost := v_usage_cost;
            END IF;
        END IF;

        -- Fast paths, plain UPDATEs of the counters that change: an insert or
        -- a status change (form A), a completion that sets the duration (form
        -- B). Anything else, or a key without its row yet (the day's first
        -- run), takes the general upsert below. Agent row first, then user row.
        v_agent_done := false;
        v_user_done := false;
        IF v_removed IS NULL AND v_tokens = 0 AND v_llm_calls = 0 AND v_cost = 0 THEN
            IF v_durations = 0 AND v_duration_sum = 0 THEN
                UPDATE public.agent_execution_stats s
                   SET execution_count = s.execution_count + v_executions,
                       success_count = s.success_count + v_succeeded,
                       failed_count = s.failed_count + v_failed,
                       cancelled_count = s.cancelled_count + v_cancelled,
                       updated_at = v_now
                 WHERE s.user_id = v_user AND s.date = v_day AND s.agent_id = v_agent;
                v_agent_done := FOUND;
                IF v_agent_done THEN
                    UPDATE public.user_execution_stats s
                       SET execution_count = s.execution_count + v_executions,
                           success_count = s.success_count + v_succeeded,
                           failed_count = s.failed_count + v_failed,
                           cancelled_count = s.cancelled_count + v_cancelled,
                           updated_at = v_now
                     WHERE s.user_id = v_user AND s.date = v_day;
                    v_user_done := FOUND;
                END IF;
            ELSE
                UPDATE public.agent_execution_stats s
                   SET execution_count = s.execution_count + v_executions,
                       success_count = s.success_count + v_succeeded,
                       failed_count = s.failed_count + v_failed,
                       cancelled_count = s.cancelled_count + v_cancelled,
                       duration_count = s.duration_count + v_durations,
                       total_duration_ms = s.total_duration_ms + v_duration_sum,
                       min_duration_ms = least(s.min_duration_ms, v_added),
                       max_duration_ms = greatest(s.max_duration_ms, v_added),
                       avg_duration_ms = CASE WHEN s.duration_count + v_durations > 0
                                              THEN round((s.total_duration_ms + v_duration_sum)::numeric
                                                         / (s.duration_count + v_durations))::bigint END,
                       updated_at = v_now
                 WHERE s.user_id = v_user AND s.date = v_day AND s.agent_id = v_agent;
                v_agent_done := FOUND;
                IF v_agent_done THEN
                    UPDATE public.user_execution_stats s
                       SET execution_count = s.execution_count + v_executions,
                           success_count = s.success_count + v_succeeded,
                           failed_count = s.failed_count + v_failed,
                           cancelled_count = s.cancelled_count + v_cancelled,
                           duration_count = s.duration_count + v_durations,
                           total_duration_ms = s.total_duration_ms + v_duration_sum,
                           min_duration_ms = least(s.min_duration_ms, v_added),
                           max_duration_ms = greatest(s.max_duration_ms, v_added),
                           avg_duration_ms = CASE WHEN s.duration_count + v_durations > 0
                                                  THEN round((s.total_duration_ms + v_duration_sum)::numeric
                                                             / (s.duration_count + v_durations))::bigint END,
                           updated_at = v_now
                     WHERE s.user_id = v_user AND s.date = v_day;
                    v_user_done := FOUND;
                END IF;
            END IF;
        END IF;

        IF NOT v_agent_done THEN
            INSERT INTO public.agent_execution_stats AS s
                (user_id, date, agent_id, execution_count, success_count, failed_count,
                 cancelled_count, duration_count, total_duration_ms, min_duration_ms,
                 max_duration_ms, avg_duration_ms, total_tokens, total_llm_calls, total_cost,
                 created_at, updated_at)
            VALUES
                (v_user, v_day, v_agent, v_executions, v_succeeded, v_failed,
                 v_cancelled, v_durations, v_duration_sum, v_added,
                 v_added, CASE WHEN v_durations > 0
                              THEN round(v_duration_sum::numeric / v_durations)::bigint END,
                 v_tokens, v_llm_calls, v_cost, v_now, v_now)
            ON CONFLICT (user_id, date, agent_id) DO UPDATE SET
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
                total_tokens      = s.total_tokens + excluded.total_tokens,
                total_llm_calls   = s.total_llm_calls + excluded.total_llm_calls,
                total_cost        = s.total_cost + excluded.total_cost,
                updated_at        = excluded.updated_at;
        END IF;
        IF NOT v_user_done THEN
            INSERT INTO public.user_execution_stats AS s
                (user_id, date, execution_count, success_count, failed_count,
                 cancelled_count, duration_count, total_duration_ms, min_duration_ms,
                 max_duration_ms, avg_duration_ms, total_tokens, total_llm_calls, total_cost,
                 created_at, updated_at)
            VALUES
                (v_user, v_day, v_executions, v_succeeded, v_failed,
                 v_cancelled, v_durations, v_duration_sum, v_added,
                 v_added, CASE WHEN v_durations > 0
                              THEN round(v_duration_sum::numeric / v_durations)::bigint END,
                 v_tokens, v_llm_calls, v_cost, v_now, v_now)
            ON CONFLICT (user_id, date) DO UPDATE SET
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
                total_tokens      = s.total_tokens + excluded.total_tokens,
                total_llm_calls   = s.total_llm_calls + excluded.total_llm_calls,
                total_cost        = s.total_cost + excluded.total_cost,
                updated_at        = excluded.updated_at;
        END IF;

        IF v_removed IS NOT NULL THEN
            -- only when the removed duration was (or tied) the minimum or maximum
            UPDATE public.agent_execution_stats s
               SET (min_duration_ms, max_duration_ms) = (
                       SELECT min(e.duration_ms), max(e.duration_ms)
                         FROM public.agent_executions e
                        WHERE e.user_id = v_user
                          AND e.agent_id = v_agent
                          AND e.started_at >= v_day
                          AND e.started_at < v_day + 1)
             WHERE s.user_id = v_user AND s.date = v_day AND s.agent_id = v_agent
               AND (s.min_duration_ms >= v_removed OR s.max_duration_ms <= v_removed);
            IF FOUND THEN
                UPDATE public.user_execution_stats u
                   SET (min_duration_ms, max_duration_ms) = (
                           SELECT min(a.min_duration_ms), max(a.max_duration_ms)
                             FROM public.agent_execution_stats a
                            WHERE a.user_id = v_user AND a.date = v_day)
                 WHERE u.user_id = v_user AND u.date = v_day;
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.track_agent_execution_stats() IS
    'Trigger on agent_executions (insert, counted updates): keep agent_execution_stats and user_execution_stats exact; deletes (retention) do not change them';
REVOKE EXECUTE ON FUNCTION agentdb.track_agent_execution_stats() FROM PUBLIC;

CREATE TRIGGER agentdb_stats_insert
    AFTER INSERT ON public.agent_executions
    FOR EACH ROW EXECUTE FUNCTION agentdb.track_agent_execution_stats();
CREATE TRIGGER agentdb_stats_update
    AFTER UPDATE ON public.agent_executions
    FOR EACH ROW
    WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id
          OR OLD.agent_id IS DISTINCT FROM NEW.agent_id
          OR OLD.started_at::date IS DISTINCT FROM NEW.started_at::date
          OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms
          OR (OLD.status IS DISTINCT FROM NEW.status
              AND (OLD.status IN ('completed', 'failed', 'cancelled')
                   OR NEW.status IN ('completed', 'failed', 'cancelled'))))
    EXECUTE FUNCTION agentdb.track_agent_execution_stats();
