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
