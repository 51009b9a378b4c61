-- Citus variant (pyglue install --citus) of sql/stats/track_execution_metrics_stats.sql:
-- the same deltas, but the execution is looked up by (user_id, id,
-- started_at), the key Citus can route: the trigger runs on the shard of
-- the metrics row, and reads the co-located shard of agent_executions on
-- the same node. (user_id is the distribution column: it never changes.)
-- The triggers are the single-node file's.
--
-- agentdb.track_execution_metrics_stats: record tokens, LLM calls and cost
-- of execution_metrics in the agent and user execution stats, as appended
-- deltas (agentdb.agent_stats_deltas), usually after the execution finished
-- (often after midnight): the usage counts on the UTC day its execution
-- STARTED.
--
-- The execution is read FOR SHARE: a concurrent update that moves the
-- execution to another day/agent/user either commits first (then we see the
-- new key) or waits for us (then its move carries our new usage along), so
-- no delta lands on a stale key.
-- A DELETE subtracts only while the execution still exists: metrics
-- deleted by the ON DELETE CASCADE of an execution delete (retention) find
-- no execution any more (our own transaction deleted it first) and leave
-- history unchanged, like the execution itself. The execution is looked up
-- by (id, started_at): when it moves to another month its metrics row moves
-- with it (ON UPDATE CASCADE; a delete from one partition and an insert
-- into another), the delete half finds no execution at the old started_at
-- (the execution's own trigger removes the old usage) and the insert half
-- adds the usage at the new key.
CREATE OR REPLACE FUNCTION agentdb.track_execution_metrics_stats()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_execution_ids uuid[];
    v_owner uuid;
    v_started timestamp[];
    v_signs integer[];
    v_user uuid;
    v_agent uuid;
    v_day date;
    v_tokens bigint;
    v_llm_calls bigint;
    v_cost numeric;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_owner := OLD.user_id;
    ELSE
        v_owner := NEW.user_id;
    END IF;
    IF TG_OP = 'INSERT' THEN
        v_execution_ids := ARRAY[NEW.execution_id]; v_started := ARRAY[NEW.started_at];
        v_signs := ARRAY[1];
    ELSIF TG_OP = 'DELETE' THEN
        v_execution_ids := ARRAY[OLD.execution_id]; v_started := ARRAY[OLD.started_at];
        v_signs := ARRAY[-1];
    ELSIF OLD.execution_id = NEW.execution_id THEN
        v_execution_ids := ARRAY[NEW.execution_id]; v_started := ARRAY[NEW.started_at];
        v_signs := ARRAY[0];
    ELSE
        v_execution_ids := ARRAY[OLD.execution_id, NEW.execution_id];
        v_started := ARRAY[OLD.started_at, NEW.started_at];
        v_signs := ARRAY[-1, 1];
    END IF;

    FOR v_i IN 1..cardinality(v_execution_ids) LOOP
        SELECT e.user_id, e.agent_id, e.started_at::date
          INTO v_user, v_agent, v_day
          FROM public.agent_executions e
         WHERE e.user_id = v_owner
           AND e.id = v_execution_ids[v_i] AND e.started_at = v_started[v_i]
           FOR SHARE;
        -- not found: deleted with its execution (history stays), or an insert
        -- the foreign key check is about to reject
        CONTINUE WHEN NOT FOUND;
        CASE v_signs[v_i]
            WHEN 1 THEN
                v_tokens := NEW.total_tokens; v_llm_calls := NEW.llm_call_count;
                v_cost := NEW.cost;
            WHEN -1 THEN
                v_tokens := -OLD.total_tokens::bigint; v_llm_calls := -OLD.llm_call_count::bigint;
                v_cost := -OLD.cost;
            ELSE
                v_tokens := NEW.total_tokens::bigint - OLD.total_tokens;
                v_llm_calls := NEW.llm_call_count::bigint - OLD.llm_call_count;
                v_cost := NEW.cost - OLD.cost;
        END CASE;

        INSERT INTO agentdb.agent_stats_deltas VALUES (
            v_user, v_day, v_agent, 0, 0, 0, 0, 0, 0, NULL, false, v_tokens, v_llm_calls, v_cost);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.track_execution_metrics_stats() IS
    'Trigger on execution_metrics: append LLM usage written late to the stats of the UTC day its execution started; metrics deleted with their execution (retention) do not change history';
REVOKE EXECUTE ON FUNCTION agentdb.track_execution_metrics_stats() FROM PUBLIC;
