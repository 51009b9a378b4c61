-- Fills the arrays of public.bench_pick from the dataset (see pick.sql).
UPDATE public.bench_pick p SET
    blocks = ARRAY(
        SELECT b.agent_id FROM public.agent_blocks b
        WHERE b.workflow_id = p.workflow_id AND b.agent_id IS NOT NULL
        GROUP BY b.agent_id ORDER BY min(b.position), b.agent_id LIMIT 8),
    execs = ARRAY(
        SELECT e.id FROM public.agent_executions e WHERE e.user_id = p.user_id
        ORDER BY e.started_at DESC, e.id DESC LIMIT 20),
    exec_agents = ARRAY(
        SELECT DISTINCT l.agent_id FROM (
            SELECT e.agent_id FROM public.agent_executions e WHERE e.user_id = p.user_id
            ORDER BY e.started_at DESC, e.id DESC LIMIT 20) l LIMIT 8),
    cursor_at = ARRAY(
        SELECT c.started_at FROM (
            SELECT w.started_at, row_number() OVER (ORDER BY w.started_at DESC, w.id DESC) AS rn
            FROM public.workflow_executions w
            WHERE w.user_id = p.user_id AND w.workflow_id = p.workflow_id) c
        WHERE c.rn % 50 = 0 AND c.rn <= 200 ORDER BY c.rn),
    cursor_id = ARRAY(
        SELECT c.id FROM (
            SELECT w.id, row_number() OVER (ORDER BY w.started_at DESC, w.id DESC) AS rn
            FROM public.workflow_executions w
            WHERE w.user_id = p.user_id AND w.workflow_id = p.workflow_id) c
        WHERE c.rn % 50 = 0 AND c.rn <= 200 ORDER BY c.rn);
ANALYZE public.bench_pick;
