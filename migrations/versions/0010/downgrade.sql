-- Back to updating the rollups in the writer's transaction: every pending
-- delta is folded first (in this transaction, so no number is lost), then
-- this revision's job, triggers, routines and delta tables go (the revision
-- then runs the older frozen copies).
DO $$
BEGIN
    WHILE agentdb.fold_stats_batch(100000) > 0 LOOP
    END LOOP;
END
$$;
SELECT agentdb.unregister_job('agentdb-execution-stats-fold');
DROP TRIGGER agentdb_stats_insert ON public.agent_executions;
DROP TRIGGER agentdb_stats_update ON public.agent_executions;
DROP TRIGGER agentdb_stats_insert ON public.workflow_executions;
DROP TRIGGER agentdb_stats_update ON public.workflow_executions;
DROP TRIGGER agentdb_stats_insert_delete ON public.execution_metrics;
DROP TRIGGER agentdb_stats_update ON public.execution_metrics;
DROP FUNCTION agentdb.track_agent_execution_stats();
DROP FUNCTION agentdb.track_execution_metrics_stats();
DROP FUNCTION agentdb.track_workflow_execution_stats();
DROP FUNCTION agentdb.raw_agent_execution_stats(date, date);
DROP FUNCTION agentdb.raw_workflow_execution_stats(date, date);
DROP FUNCTION agentdb.refresh_execution_stats(date, date);
DROP FUNCTION agentdb.verify_execution_stats(date, date);
DROP FUNCTION agentdb.user_dashboard(uuid, integer);
DROP FUNCTION agentdb.user_daily_stats(uuid, date, date);
DROP FUNCTION agentdb.agent_stats_summary(uuid, integer);
DROP FUNCTION agentdb.agent_stats_now(uuid, date, date);
DROP FUNCTION agentdb.user_stats_now(uuid, date, date);
DROP FUNCTION agentdb.workflow_stats_now(uuid, date, date);
DROP PROCEDURE agentdb.fold_execution_stats(integer, bigint);
DROP FUNCTION agentdb.fold_stats_if_free();
DROP FUNCTION agentdb.fold_stats_batch(integer);
DROP TABLE agentdb.agent_stats_deltas, agentdb.workflow_stats_deltas;
-- the rollups' comments as 0007 wrote them
COMMENT ON TABLE public.agent_execution_stats IS
    'Per agent, user and UTC day a run started on: exact counts, duration sum/count/min/max, tokens, LLM calls and cost of agent_executions (+ execution_metrics), kept by triggers in the writing transaction. '
    'Deleting raw executions (retention) does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';
COMMENT ON TABLE public.workflow_execution_stats IS
    'Per workflow, user and UTC day a run started on: exact counts and duration sum/count/min/max of workflow_executions, kept by triggers in the writing transaction. '
    'Tokens and cost belong to agent executions (execution_metrics) and are rolled up in agent_execution_stats. '
    'Deleting raw executions (retention) does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';
COMMENT ON TABLE public.user_execution_stats IS
    'Per user and UTC day a run started on: the agent_execution_stats of all the user''s agents summed (a 30-day dashboard reads 31 rows, not agents x days), kept by the same triggers. '
    'Deleting raw executions (retention) or an agent does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';
