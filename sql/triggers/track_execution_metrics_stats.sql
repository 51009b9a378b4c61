-- agentdb.track_execution_metrics_stats: keep tokens, LLM calls and cost in
-- agent_execution_stats and user_execution_stats exact as execution_metrics
-- rows are written, usually after the execution finished (often after
-- midnight): the usage counts on the day its execution STARTED.
--
-- The execution is read FOR SHARE: a concurrent update that moves the
-- execution to another day/agent/user either commits first (then we see the
-- new key) or waits for us (then it moves our new usage along), so no delta
-- lands on a stale key.
-- A DELETE subtracts only while the execution still exists: metrics
-- deleted by the ON DELETE CASCADE of an execution delete (retention) find
-- no execution any more and leave history unchanged, like the execution.
CREATE FUNCTION agentdb.track_execution_metrics_stats()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_exec record;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.execution_id = NEW.execution_id THEN
        SELECT e.user_id, e.agent_id, e.started_at::date AS day
          INTO v_exec
          FROM public.agent_executions e
         WHERE e.id = NEW.execution_id
           FOR SHARE;
        IF FOUND THEN
            PERFORM agentdb.add_agent_execution_stats(
                v_exec.user_id, v_exec.agent_id, v_exec.day, 0, 0, 0, 0, 0, 0, NULL, NULL,
                NEW.total_tokens::bigint - OLD.total_tokens,
                NEW.llm_call_count::bigint - OLD.llm_call_count,
                NEW.cost - OLD.cost);
        END IF;
        RETURN NULL;
    END IF;

    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT e.user_id, e.agent_id, e.started_at::date AS day
          INTO v_exec
          FROM public.agent_executions e
         WHERE e.id = OLD.execution_id
           FOR SHARE;
        IF FOUND THEN
            PERFORM agentdb.add_agent_execution_stats(
                v_exec.user_id, v_exec.agent_id, v_exec.day, 0, 0, 0, 0, 0, 0, NULL, NULL,
                -OLD.total_tokens::bigint, -OLD.llm_call_count::bigint, -OLD.cost);
        END IF;
    END IF;

    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT e.user_id, e.agent_id, e.started_at::date AS day
          INTO v_exec
          FROM public.agent_executions e
         WHERE e.id = NEW.execution_id
           FOR SHARE;
        -- not found: the foreign key check rejects the row anyway
        IF FOUND THEN
            PERFORM agentdb.add_agent_execution_stats(
                v_exec.user_id, v_exec.agent_id, v_exec.day, 0, 0, 0, 0, 0, 0, NULL, NULL,
                NEW.total_tokens::bigint, NEW.llm_call_count::bigint, NEW.cost);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.track_execution_metrics_stats() IS
    'Trigger on execution_metrics: add LLM usage written late to the stats of the day its execution started; metrics deleted with their execution (retention) do not change history';
REVOKE EXECUTE ON FUNCTION agentdb.track_execution_metrics_stats() FROM PUBLIC;

CREATE TRIGGER agentdb_stats_insert_delete
    AFTER INSERT OR DELETE ON public.execution_metrics
    FOR EACH ROW EXECUTE FUNCTION agentdb.track_execution_metrics_stats();
CREATE TRIGGER agentdb_stats_update
    AFTER UPDATE ON public.execution_metrics
    FOR EACH ROW
    WHEN (OLD.execution_id IS DISTINCT FROM NEW.execution_id
          OR OLD.total_tokens IS DISTINCT FROM NEW.total_tokens
          OR OLD.llm_call_count IS DISTINCT FROM NEW.llm_call_count
          OR OLD.cost IS DISTINCT FROM NEW.cost)
    EXECUTE FUNCTION agentdb.track_execution_metrics_stats();
