-- Dashboard at head: agentdb.user_dashboard (rollups), then the latest 20 executions with their
-- agent and metrics in one statement (pyglue.queries.get_dashboard_executions_optimized), bounded
-- by the helper's :horizon.
\set n random(1, :picks)
BEGIN;
SELECT user_id FROM public.bench_pick WHERE n = :n \gset
SELECT * FROM agentdb.user_dashboard(:user_id, 30);
SELECT e.id, e.agent_id, e.user_id, e.workflow_execution_id, e.session_id, e.status, e.input_data, e.output_data, e.error_message, e.started_at, e.completed_at, e.duration_ms, a.id AS id_1, a.user_id AS user_id_1, a.name, a.description, a.configuration, a.is_active, a.created_at, a.updated_at, m.id AS id_2, m.execution_id, m.llm_call_count, m.prompt_tokens, m.completion_tokens, m.total_tokens, m.cost, m.created_at AS created_at_1, m.updated_at AS updated_at_1, m.started_at AS started_at_1 FROM public.agent_executions e JOIN public.agents a ON a.id = e.agent_id LEFT OUTER JOIN public.execution_metrics m ON m.execution_id = e.id AND m.started_at = e.started_at AND m.started_at < :horizon::timestamp WHERE (e.user_id, e.started_at, e.id) >= (:user_id, '-infinity'::timestamp, '00000000-0000-0000-0000-000000000000'::uuid) AND (e.user_id, e.started_at, e.id) <= (:user_id, 'infinity'::timestamp, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid) AND e.started_at < :horizon::timestamp ORDER BY e.user_id DESC, e.started_at DESC, e.id DESC LIMIT 20;
COMMIT;
