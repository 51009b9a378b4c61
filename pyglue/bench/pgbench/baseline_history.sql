-- History page at baseline: ORDER BY ... OFFSET page*50 (half the views open page 0,
-- the rest read pages 1-4 further back).
\set n random(1, :picks)
\set deeper random(0, 1)
\set page :deeper * random(1, 4)
BEGIN;
SELECT user_id, workflow_id FROM public.bench_pick WHERE n = :n \gset
SELECT id, workflow_id, user_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms FROM public.workflow_executions WHERE user_id = :user_id AND workflow_id = :workflow_id ORDER BY started_at DESC, id DESC LIMIT 50 OFFSET :page * 50;
COMMIT;
