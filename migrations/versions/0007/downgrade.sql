-- The nightly check leaves the registry and pg_cron; then the triggers,
-- the routines and the rollup tables.
SELECT agentdb.unregister_job('agentdb-execution-stats-check');
DROP TRIGGER agentdb_stats_insert ON public.agent_executions;
DROP TRIGGER agentdb_stats_update ON public.agent_executions;
DROP TRIGGER agentdb_stats_insert ON public.workflow_executions;
DROP TRIGGER agentdb_stats_update ON public.workflow_executions;
DROP TRIGGER agentdb_stats_insert_delete ON public.execution_metrics;
DROP TRIGGER agentdb_stats_update ON public.execution_metrics;
DROP FUNCTION agentdb.check_execution_stats(date);
DROP FUNCTION agentdb.verify_execution_stats(date, date);
DROP FUNCTION agentdb.refresh_execution_stats(date, date);
DROP FUNCTION agentdb.raw_agent_execution_stats(date, date);
DROP FUNCTION agentdb.raw_workflow_execution_stats(date, date);
DROP FUNCTION agentdb.user_dashboard(uuid, integer);
DROP FUNCTION agentdb.user_daily_stats(uuid, date, date);
DROP FUNCTION agentdb.agent_stats_summary(uuid, integer);
DROP FUNCTION agentdb.track_agent_execution_stats();
DROP FUNCTION agentdb.track_execution_metrics_stats();
DROP FUNCTION agentdb.track_workflow_execution_stats();
DROP TABLE public.user_execution_stats, public.agent_execution_stats, public.workflow_execution_stats;
