-- The pgbench driver's dice: one row per (user, workflow) of the load test's population,
-- with the ids each operation needs, so that scripts draw `\set n random(1, :picks)` and
-- read the ids of row n (pgbench variables are numbers; the dataset's ids are uuids).
-- Built by pyglue.bench.pgbench at both states from the same rows (head is a copy of baseline).
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
