-- History page at head: keyset pages (pyglue.queries.get_workflow_execution_history); the
-- cursor of pages 1-4 is the last row of the page before, as the app keeps it. :horizon is the
-- helper's (the run's start plus a day): it keeps the months made ahead out of the plan.
\set n random(1, :picks)
\set deeper random(0, 1)
\set page :deeper * random(1, 4)
BEGIN;
SELECT user_id, workflow_id, coalesce(cursor_at[:page], '-infinity') AS c_at, coalesce(cursor_id[:page], '00000000-0000-0000-0000-000000000000') AS c_id FROM public.bench_pick WHERE n = :n \gset
\if :page = 0
SELECT w.id, w.workflow_id, w.user_id, w.session_id, w.status, w.input_data, w.output_data, w.error_message, w.started_at, w.completed_at, w.duration_ms FROM public.workflow_executions w JOIN (SELECT id, started_at FROM public.workflow_executions WHERE user_id = :user_id AND workflow_id = :workflow_id AND started_at < :horizon::timestamp ORDER BY started_at DESC, id DESC LIMIT 50) AS page ON w.id = page.id AND w.started_at = page.started_at WHERE w.started_at < :horizon::timestamp ORDER BY page.started_at DESC, page.id DESC;
\else
SELECT w.id, w.workflow_id, w.user_id, w.session_id, w.status, w.input_data, w.output_data, w.error_message, w.started_at, w.completed_at, w.duration_ms FROM public.workflow_executions w JOIN (SELECT id, started_at FROM public.workflow_executions WHERE user_id = :user_id AND workflow_id = :workflow_id AND (started_at, id) < (:c_at::timestamp, :c_id::uuid) AND started_at <= :c_at::timestamp AND started_at < :horizon::timestamp ORDER BY started_at DESC, id DESC LIMIT 50) AS page ON w.id = page.id AND w.started_at = page.started_at WHERE w.started_at < :horizon::timestamp ORDER BY page.started_at DESC, page.id DESC;
\endif
COMMIT;
