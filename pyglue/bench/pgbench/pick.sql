-- The pgbench driver's dice: one row per (user, workflow) of the load test's population,
-- with the ids each operation needs, so that scripts draw `\set n random(1, :picks)` and
-- read the ids of row n (pgbench variables are numbers; the dataset's ids are uuids).
-- Built by pyglue.bench.pgbench at both states from the same rows (head is a copy of baseline),
-- with the setting bench.heaviest = the dataset's heaviest user.
-- blocks: the distinct agents of the workflow's blocks (the ORM loads each once);
-- execs / exec_agents: the user's 20 latest executions and their distinct agents
-- (the dashboard's lazy loads); cursors: keyset cursors of history pages 1..4.
DROP TABLE IF EXISTS public.bench_pick;
CREATE TABLE public.bench_pick (
    n integer PRIMARY KEY,
    user_id uuid NOT NULL,
    workflow_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    provider text NOT NULL,
    blocks uuid[],
    execs uuid[],
    exec_agents uuid[],
    cursor_at timestamp[],
    cursor_id uuid[]
);
-- The population of pyglue.bench.loadops.population: up to 200 users (the heaviest first) who
-- own a workflow with an agent block and an agent; up to 10 of each per user.
INSERT INTO public.bench_pick (n, user_id, workflow_id, agent_id, provider)
SELECT row_number() OVER (ORDER BY u.rank, w.id), u.id, w.id,
       u.agents[1 + (w.k - 1) % cardinality(u.agents)],
       (ARRAY['openai', 'anthropic', 'azure', 'google', 'ollama', 'mistral'])[
           1 + (row_number() OVER (ORDER BY u.rank, w.id)) % 6]
FROM (
    SELECT p.id, p.rank, p.workflows, p.agents FROM (
        SELECT u.id, row_number() OVER (ORDER BY (u.id = current_setting('bench.heaviest')::uuid)
                   DESC, md5(u.id::text)) AS rank,
               ARRAY(SELECT DISTINCT b.workflow_id FROM public.workflows w
                     JOIN public.agent_blocks b ON b.workflow_id = w.id AND b.agent_id IS NOT NULL
                     WHERE w.user_id = u.id ORDER BY b.workflow_id LIMIT 10) AS workflows,
               ARRAY(SELECT a.id FROM public.agents a WHERE a.user_id = u.id
                     ORDER BY a.id LIMIT 10) AS agents
        FROM public.users u) p
    WHERE cardinality(p.workflows) > 0 AND cardinality(p.agents) > 0
    ORDER BY p.rank LIMIT 200) u
CROSS JOIN LATERAL unnest(u.workflows) WITH ORDINALITY AS w (id, k);
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
