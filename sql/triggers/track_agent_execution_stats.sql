-- agentdb.track_agent_execution_stats: keep agent_execution_stats and
-- user_execution_stats exact as agent_executions rows are written.
--
-- A run counts on the UTC day it STARTED (started_at::date; started_at is
-- UTC): one execution from the insert on (pending or running included), one
-- success/failure/cancellation while its status says so (back and forth
-- included), its duration once set. When started_at's day, agent_id or
-- user_id changes, the whole contribution, LLM usage from execution_metrics
-- included, moves from the old key to the new one (the two keys are locked
-- in key order). There is deliberately no DELETE trigger: deleting raw
-- executions (retention) does not change history already rolled up.
-- The WHEN clause keeps updates that change nothing counted (output_data,
-- pending -> running, ...) from calling the function at all.
CREATE FUNCTION agentdb.track_agent_execution_stats()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tokens bigint := 0;
    v_llm_calls bigint := 0;
    v_cost numeric := 0;
    v_old_first boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM agentdb.add_agent_execution_stats(
            NEW.user_id, NEW.agent_id, NEW.started_at::date, 1,
            (NEW.status = 'completed')::integer, (NEW.status = 'failed')::integer,
            (NEW.status = 'cancelled')::integer,
            (NEW.duration_ms IS NOT NULL)::integer, coalesce(NEW.duration_ms, 0),
            NEW.duration_ms, NULL, 0, 0, 0);
        RETURN NULL;
    END IF;

    IF OLD.user_id = NEW.user_id AND OLD.agent_id = NEW.agent_id
       AND OLD.started_at::date = NEW.started_at::date THEN
        -- same key: one delta, new minus old
        IF OLD.duration_ms IS NOT DISTINCT FROM NEW.duration_ms THEN
            PERFORM agentdb.add_agent_execution_stats(
                NEW.user_id, NEW.agent_id, NEW.started_at::date, 0,
                (NEW.status = 'completed')::integer - (OLD.status = 'completed')::integer,
                (NEW.status = 'failed')::integer - (OLD.status = 'failed')::integer,
                (NEW.status = 'cancelled')::integer - (OLD.status = 'cancelled')::integer,
                0, 0, NULL, NULL, 0, 0, 0);
        ELSE
            PERFORM agentdb.add_agent_execution_stats(
                NEW.user_id, NEW.agent_id, NEW.started_at::date, 0,
                (NEW.status = 'completed')::integer - (OLD.status = 'completed')::integer,
                (NEW.status = 'failed')::integer - (OLD.status = 'failed')::integer,
                (NEW.status = 'cancelled')::integer - (OLD.status = 'cancelled')::integer,
                (NEW.duration_ms IS NOT NULL)::integer - (OLD.duration_ms IS NOT NULL)::integer,
                coalesce(NEW.duration_ms, 0)::bigint - coalesce(OLD.duration_ms, 0),
                NEW.duration_ms, OLD.duration_ms, 0, 0, 0);
        END IF;
        RETURN NULL;
    END IF;

    -- the key changed: move the whole contribution, LLM usage included
    SELECT m.total_tokens, m.llm_call_count, m.cost
      INTO v_tokens, v_llm_calls, v_cost
      FROM public.execution_metrics m
     WHERE m.execution_id = NEW.id;
    IF NOT FOUND THEN
        v_tokens := 0; v_llm_calls := 0; v_cost := 0;
    END IF;
    v_old_first := (OLD.user_id, OLD.started_at::date, OLD.agent_id)
                 < (NEW.user_id, NEW.started_at::date, NEW.agent_id);
    IF v_old_first THEN
        PERFORM agentdb.add_agent_execution_stats(
            OLD.user_id, OLD.agent_id, OLD.started_at::date, -1,
            -(OLD.status = 'completed')::integer, -(OLD.status = 'failed')::integer,
            -(OLD.status = 'cancelled')::integer,
            -(OLD.duration_ms IS NOT NULL)::integer, -coalesce(OLD.duration_ms, 0)::bigint,
            NULL, OLD.duration_ms, -v_tokens, -v_llm_calls, -v_cost);
    END IF;
    PERFORM agentdb.add_agent_execution_stats(
        NEW.user_id, NEW.agent_id, NEW.started_at::date, 1,
        (NEW.status = 'completed')::integer, (NEW.status = 'failed')::integer,
        (NEW.status = 'cancelled')::integer,
        (NEW.duration_ms IS NOT NULL)::integer, coalesce(NEW.duration_ms, 0),
        NEW.duration_ms, NULL, v_tokens, v_llm_calls, v_cost);
    IF NOT v_old_first THEN
        PERFORM agentdb.add_agent_execution_stats(
            OLD.user_id, OLD.agent_id, OLD.started_at::date, -1,
            -(OLD.status = 'completed')::integer, -(OLD.status = 'failed')::integer,
            -(OLD.status = 'cancelled')::integer,
            -(OLD.duration_ms IS NOT NULL)::integer, -coalesce(OLD.duration_ms, 0)::bigint,
            NULL, OLD.duration_ms, -v_tokens, -v_llm_calls, -v_cost);
    END IF;
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
