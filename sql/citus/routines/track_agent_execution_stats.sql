-- Citus variant (pyglue install --citus) of sql/stats/track_agent_execution_stats.sql:
-- the same deltas; the run's row and its LLM usage are looked up by
-- (user_id, id), the key Citus routes (the trigger runs on the shard of
-- the run, and reads the co-located shards on the same node), and the
-- Citus agentdb.fold_stats_if_free does nothing in a trigger (a fold spans
-- every shard): pg_cron or `pyglue stats fold` folds. The triggers are the
-- single-node file's.
--
-- agentdb.track_agent_execution_stats: record how a write of agent_executions
-- changes agent_execution_stats and user_execution_stats, as appended deltas
-- (agentdb.agent_stats_deltas).
--
-- A run counts on the UTC day it STARTED (started_at::date; started_at is
-- UTC): one execution from the insert on (pending or running included), one
-- success/failure/cancellation while its status says so (back and forth
-- included), its duration once set. When started_at's day, agent_id or
-- user_id changes, the whole contribution, LLM usage from execution_metrics
-- included, moves: a negative delta for the old key, a positive one for the
-- new. Deleting raw executions (retention) does not change history already
-- rolled up. A run whose started_at moves to another month is deleted from
-- one partition and inserted into another: the insert counts it at its new
-- key (its usage follows with its metrics row, which moves too), and the
-- DELETE trigger, finding the id still there, removes its whole old
-- contribution, LLM usage included.
--
-- The writer only appends: it never updates a row another writer touches,
-- so writers of one user never queue on each other and single-run
-- transactions never deadlock. About one write in c_fold_every also tries
-- to fold the pending deltas (agentdb.fold_stats_if_free: try-lock, never
-- waits), which keeps the backlog, and so every read, small between the
-- pg_cron folds. The WHEN clauses keep updates that change nothing counted
-- (output_data, pending -> running...) from calling it at all.
CREATE OR REPLACE FUNCTION agentdb.track_agent_execution_stats()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_fold_every CONSTANT double precision := 1000;
    v_tokens bigint := 0;
    v_llm_calls bigint := 0;
    v_cost numeric := 0;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT FROM public.agent_executions e WHERE e.user_id = OLD.user_id AND e.id = OLD.id) THEN
            RETURN NULL;  -- deleted, not moved: history stays
        END IF;
        SELECT m.total_tokens, m.llm_call_count, m.cost
          INTO v_tokens, v_llm_calls, v_cost
          FROM public.execution_metrics m
         WHERE m.user_id = OLD.user_id AND m.execution_id = OLD.id;
        IF NOT FOUND THEN
            v_tokens := 0; v_llm_calls := 0; v_cost := 0;
        END IF;
        INSERT INTO agentdb.agent_stats_deltas VALUES
            (OLD.user_id, OLD.started_at::date, OLD.agent_id, -1,
             -(OLD.status = 'completed')::integer, -(OLD.status = 'failed')::integer,
             -(OLD.status = 'cancelled')::integer, -(OLD.duration_ms IS NOT NULL)::integer,
             -coalesce(OLD.duration_ms, 0)::bigint, NULL, OLD.duration_ms IS NOT NULL,
             -v_tokens, -v_llm_calls, -v_cost);
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO agentdb.agent_stats_deltas VALUES (
            NEW.user_id, NEW.started_at::date, NEW.agent_id, 1,
            (NEW.status = 'completed')::integer, (NEW.status = 'failed')::integer,
            (NEW.status = 'cancelled')::integer, (NEW.duration_ms IS NOT NULL)::integer,
            coalesce(NEW.duration_ms, 0), NEW.duration_ms, false, 0, 0, 0);
    ELSIF OLD.user_id = NEW.user_id AND OLD.agent_id = NEW.agent_id
          AND OLD.started_at::date = NEW.started_at::date THEN
        -- same key: one delta, new minus old
        INSERT INTO agentdb.agent_stats_deltas VALUES (
            NEW.user_id, NEW.started_at::date, NEW.agent_id, 0,
            (NEW.status = 'completed')::integer - (OLD.status = 'completed')::integer,
            (NEW.status = 'failed')::integer - (OLD.status = 'failed')::integer,
            (NEW.status = 'cancelled')::integer - (OLD.status = 'cancelled')::integer,
            (NEW.duration_ms IS NOT NULL)::integer - (OLD.duration_ms IS NOT NULL)::integer,
            coalesce(NEW.duration_ms, 0)::bigint - coalesce(OLD.duration_ms, 0),
            CASE WHEN OLD.duration_ms IS DISTINCT FROM NEW.duration_ms THEN NEW.duration_ms END,
            OLD.duration_ms IS NOT NULL AND OLD.duration_ms IS DISTINCT FROM NEW.duration_ms,
            0, 0, 0);
    ELSE
        -- the key changed: the whole contribution, LLM usage included, moves
        SELECT m.total_tokens, m.llm_call_count, m.cost
          INTO v_tokens, v_llm_calls, v_cost
          FROM public.execution_metrics m
         WHERE m.user_id = OLD.user_id AND m.execution_id = NEW.id
           AND m.started_at IN (OLD.started_at, NEW.started_at);
        IF NOT FOUND THEN
            v_tokens := 0; v_llm_calls := 0; v_cost := 0;
        END IF;
        INSERT INTO agentdb.agent_stats_deltas VALUES
            (OLD.user_id, OLD.started_at::date, OLD.agent_id, -1,
             -(OLD.status = 'completed')::integer, -(OLD.status = 'failed')::integer,
             -(OLD.status = 'cancelled')::integer, -(OLD.duration_ms IS NOT NULL)::integer,
             -coalesce(OLD.duration_ms, 0)::bigint, NULL, OLD.duration_ms IS NOT NULL,
             -v_tokens, -v_llm_calls, -v_cost),
            (NEW.user_id, NEW.started_at::date, NEW.agent_id, 1,
             (NEW.status = 'completed')::integer, (NEW.status = 'failed')::integer,
             (NEW.status = 'cancelled')::integer, (NEW.duration_ms IS NOT NULL)::integer,
             coalesce(NEW.duration_ms, 0), NEW.duration_ms, false,
             v_tokens, v_llm_calls, v_cost);
    END IF;
    IF random() * c_fold_every < 1 THEN
        PERFORM agentdb.fold_stats_if_free();
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.track_agent_execution_stats() IS
    'Trigger on agent_executions (insert, counted updates, a move between months): append the change to agent/user execution stats to agentdb.agent_stats_deltas; deletes (retention) do not change them';
REVOKE EXECUTE ON FUNCTION agentdb.track_agent_execution_stats() FROM PUBLIC;
