-- The dataset generator's SQL (pyglue.bench.datagen): first the pg_temp helpers, then one

-- statement per step, each after a line `-- step: <name>`. Python's str.format fills

-- {seed}, {users}, ... from the scale; {{ }} stand for literal braces.

CREATE FUNCTION pg_temp.rnd(i bigint, salt integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8extended(i, {seed}::bigint * 7919 + salt) & 2147483647)::float8 / 2147483648.0 $$;

CREATE FUNCTION pg_temp.gid(kind text, i bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT md5('{seed}:' || kind || ':' || i)::uuid $$;

-- owner (user number) of agent/workflow number j: heavy ones round-robin over
-- the heavy users, the rest round-robin over everybody else
CREATE FUNCTION pg_temp.owner_of(j bigint, heavy_items bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN j <= heavy_items THEN ((j - 1) % {heavy}) + 1
               ELSE {heavy} + 1 + ((j - heavy_items - 1) % {normal_users}) END $$;

-- the k-th pick (r in [0,1)) among the items (agents or workflows) user u owns
CREATE FUNCTION pg_temp.item_of(u bigint, r float8, total bigint, heavy_items bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN u <= {heavy}
               THEN u + floor(r * (heavy_items / {heavy}))::bigint * {heavy}
               ELSE heavy_items + (u - {heavy})
                    + floor(r * ((total - heavy_items - (u - {heavy})) / {normal_users} + 1))::bigint
                      * {normal_users} END $$;

-- which agent/workflow run i goes to: 1.5% the busiest, 38.5% the heavy users', the rest spread
CREATE FUNCTION pg_temp.pick(i bigint, salt integer, total bigint, heavy_items bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN pg_temp.rnd(i, salt) < 0.015 THEN 1
               WHEN pg_temp.rnd(i, salt) < 0.40 THEN 1 + floor(pg_temp.rnd(i, salt + 1) * heavy_items)::bigint
               ELSE heavy_items + 1 + floor(pg_temp.rnd(i, salt + 1) * (total - heavy_items))::bigint END $$;

CREATE FUNCTION pg_temp.status_of(r float8) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN r < 0.85 THEN 'completed' WHEN r < 0.95 THEN 'failed'
               WHEN r < 0.995 THEN 'cancelled' WHEN r < 0.998 THEN 'running' ELSE 'pending' END $$;

CREATE TEMP TABLE gen_anchor AS SELECT timezone('utc', now()) AS now_utc;

-- constants visible to the steps below
CREATE FUNCTION pg_temp.n_agents() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT {agents}::bigint $$;
CREATE FUNCTION pg_temp.n_heavy_agents() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT {heavy_agents}::bigint $$;
CREATE FUNCTION pg_temp.n_workflows() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT {workflows}::bigint $$;
CREATE FUNCTION pg_temp.n_heavy_workflows() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT {heavy_workflows}::bigint $$;

-- step: users
INSERT INTO users (id, email, name, role, created_at, updated_at)
SELECT pg_temp.gid('u', i), 'user' || i || '@example.com', 'User ' || i,
       CASE WHEN i % 100 = 0 THEN 'admin' ELSE 'user' END,
       a.now_utc - interval '730 days' + pg_temp.rnd(i, 10) * interval '365 days',
       a.now_utc - pg_temp.rnd(i, 11) * interval '30 days'
FROM generate_series(1, {users}) AS i, gen_anchor a

-- step: agents
INSERT INTO agents (id, user_id, name, description, configuration, created_at, updated_at)
SELECT pg_temp.gid('a', j), pg_temp.gid('u', pg_temp.owner_of(j, pg_temp.n_heavy_agents())),
       'Agent ' || j, 'Generated agent ' || j,
       json_build_object(
           'llm_provider', p.provider,
           'llm_model', (ARRAY['gpt-4o','gpt-4o-mini','claude-3-5-sonnet','claude-3-haiku','llama3.1:8b','qwen2.5:14b','gpt-4o-azure','gemini-1.5-pro'])[1 + floor(pg_temp.rnd(j, 21) * 8)::int],
           'temperature', round((pg_temp.rnd(j, 22))::numeric, 2),
           'max_tokens', 256 * (1 + floor(pg_temp.rnd(j, 23) * 16)::int),
           'system_prompt', 'You are agent ' || j || '. Answer using the knowledge base.',
           'memory', json_build_object('enabled', pg_temp.rnd(j, 24) < 0.7, 'window', 10),
           'tags', json_build_array('team-' || (j % 50), CASE WHEN pg_temp.rnd(j, 25) < 0.1 THEN 'beta' ELSE 'stable' END)
       ),
       a.now_utc - interval '400 days' + pg_temp.rnd(j, 26) * interval '365 days',
       a.now_utc - pg_temp.rnd(j, 27) * interval '30 days'
FROM generate_series(1, {agents}) AS j, gen_anchor a,
     LATERAL (SELECT (ARRAY['openai','openai','openai','openai','openai','openai','openai','openai','openai',
                      'anthropic','anthropic','anthropic','anthropic','anthropic','azure','azure',
                      'google','google','ollama','mistral'])[1 + floor(pg_temp.rnd(j, 20) * 20)::int] AS provider) p

-- step: agent_tools
INSERT INTO agent_tools (id, agent_id, name, tool_type, config)
SELECT pg_temp.gid('t', j * 4 + k), pg_temp.gid('a', j),
       (ARRAY['web_search','calculator','sql_query','http_request'])[k],
       (ARRAY['search','math','database','http'])[k],
       json_build_object('timeout_s', 5 * k, 'retries', k % 3)
FROM generate_series(1, {agents}) AS j, generate_series(1, 2) AS k

-- step: knowledgebases
INSERT INTO knowledgebases (id, user_id, name, description)
SELECT pg_temp.gid('k', i * 2 + k), pg_temp.gid('u', i), 'KB ' || i || '-' || k, 'Documents of user ' || i
FROM generate_series(1, {users}) AS i, generate_series(0, 1) AS k

-- step: agent_knowledgebases
INSERT INTO agent_knowledgebases (agent_id, knowledgebase_id)
SELECT pg_temp.gid('a', j), pg_temp.gid('k', pg_temp.owner_of(j, pg_temp.n_heavy_agents()) * 2 + (j % 2))
FROM generate_series(1, {agents}) AS j
WHERE pg_temp.rnd(j, 30) < 0.6

-- step: blocks (staged)
CREATE TEMP TABLE gen_blocks ON COMMIT DROP AS
SELECT pg_temp.gid('b', w * 1000 + p) AS id, pg_temp.gid('w', w) AS workflow_id,
       CASE WHEN t.type = 'agent' THEN pg_temp.gid('a', pg_temp.item_of(
            pg_temp.owner_of(w, pg_temp.n_heavy_workflows()), pg_temp.rnd(w * 1000 + p, 41),
            pg_temp.n_agents(), pg_temp.n_heavy_agents())) END AS agent_id,
       t.type, initcap(t.type) || ' ' || p AS name, p AS position,
       json_build_object('retries', p % 3, 'timeout_ms', 1000 * (1 + p % 5),
                         'prompt', CASE WHEN t.type IN ('agent', 'llm') THEN 'Step ' || p || ' of workflow ' || w END) AS config,
       CASE WHEN t.type = 'condition'
            THEN json_build_object('branches', json_build_array('yes', 'no'))
            ELSE '{{}}'::json END AS sub_blocks
FROM generate_series(1, {workflows}) AS w,
     LATERAL (SELECT {bpw} - 4 + floor(pg_temp.rnd(w, 40) * 9)::int AS n) size,
     LATERAL generate_series(0, size.n - 1) AS p,
     LATERAL (SELECT CASE
         WHEN p = 0 THEN 'start'
         WHEN p = size.n - 1 THEN 'end'
         WHEN p = 1 AND pg_temp.rnd(w, 42) < 0.01 THEN 'human_approval'
         WHEN p = 2 AND pg_temp.rnd(w, 43) < 0.03 THEN 'code'
         WHEN pg_temp.rnd(w, 44) < 0.3 AND p % 2 = 1 THEN 'llm'
         ELSE (ARRAY['agent','agent','agent','llm','llm','tool','tool','condition','retriever','retriever'])[1 + floor(pg_temp.rnd(w * 1000 + p, 45) * 10)::int] END AS type) t

-- step: edges (staged)
CREATE TEMP TABLE gen_edges ON COMMIT DROP AS
SELECT pg_temp.gid('e', w * 1000 + e) AS id, pg_temp.gid('w', w) AS workflow_id,
       pg_temp.gid('b', w * 1000 + s.src) AS source_block_id,
       pg_temp.gid('b', w * 1000 + s.dst) AS target_block_id,
       CASE WHEN e > size.n - 1 THEN 'branch-' || e END AS condition
FROM generate_series(1, {workflows}) AS w,
     LATERAL (SELECT {bpw} - 4 + floor(pg_temp.rnd(w, 40) * 9)::int AS n) size,
     LATERAL generate_series(1, size.n - 1 + ({epw} - {bpw})) AS e,
     LATERAL (SELECT CASE WHEN e <= size.n - 1 THEN e - 1
                          ELSE floor(pg_temp.rnd(w * 1000 + e, 50) * (size.n - 2))::int END AS src) s0,
     LATERAL (SELECT s0.src,
                     CASE WHEN e <= size.n - 1 THEN e
                          ELSE s0.src + 1 + floor(pg_temp.rnd(w * 1000 + e, 51) * (size.n - 1 - s0.src))::int
                     END AS dst) s

-- step: workflows
INSERT INTO workflows (id, user_id, name, description, graph_definition, created_at, updated_at)
SELECT pg_temp.gid('w', w), pg_temp.gid('u', pg_temp.owner_of(w, pg_temp.n_heavy_workflows())),
       'Workflow ' || w, 'Generated workflow ' || w,
       json_build_object(
           'version', 2,
           'nodes', n.nodes, 'edges', e.edges,
           'viewport', json_build_object('x', 0, 'y', 0, 'zoom', 1)),
       a.now_utc - interval '400 days' + pg_temp.rnd(w, 52) * interval '365 days',
       a.now_utc - pg_temp.rnd(w, 53) * interval '30 days'
FROM generate_series(1, {workflows}) AS w, gen_anchor a,
     (SELECT workflow_id, json_agg(json_build_object('id', 'n' || position, 'type', type,
                                                     'block_id', id, 'label', name)
                                   ORDER BY position) AS nodes
      FROM gen_blocks GROUP BY workflow_id) n,
     (SELECT workflow_id, json_agg(json_build_object('source', source_block_id, 'target', target_block_id)
                                   ORDER BY id) AS edges
      FROM gen_edges GROUP BY workflow_id) e
WHERE n.workflow_id = pg_temp.gid('w', w) AND e.workflow_id = n.workflow_id

-- step: agent_blocks
INSERT INTO agent_blocks (id, workflow_id, agent_id, type, name, position, config, sub_blocks)
SELECT id, workflow_id, agent_id, type, name, position, config, sub_blocks FROM gen_blocks

-- step: workflow_edges
INSERT INTO workflow_edges (id, workflow_id, source_block_id, target_block_id, condition)
SELECT id, workflow_id, source_block_id, target_block_id, condition FROM gen_edges

-- step: workflow_executions
INSERT INTO workflow_executions (id, workflow_id, user_id, session_id, status, input_data, output_data,
                                 error_message, started_at, completed_at, duration_ms)
SELECT pg_temp.gid('we', i), pg_temp.gid('w', x.w),
       pg_temp.gid('u', pg_temp.owner_of(x.w, pg_temp.n_heavy_workflows())),
       'session-' || (i / 8), x.status,
       json_build_object('message', 'Run ' || i, 'priority', i % 3),
       CASE WHEN x.status = 'completed' THEN json_build_object('result', 'ok', 'steps', 5 + i % 15) END,
       CASE WHEN x.status = 'failed' THEN 'Step ' || (i % 20) || ' timed out' END,
       x.started_at,
       CASE WHEN x.finished THEN x.started_at + x.duration_ms * interval '1 millisecond' END,
       CASE WHEN x.finished THEN x.duration_ms END
FROM generate_series(1, {workflow_executions}) AS i, gen_anchor a,
     LATERAL (SELECT pg_temp.pick(i, 60, pg_temp.n_workflows(), pg_temp.n_heavy_workflows()) AS w,
                     pg_temp.status_of(pg_temp.rnd(i, 62)) AS status,
                     a.now_utc - interval '2 hours' - pg_temp.rnd(i, 63) * interval '363 days' AS started_at,
                     200 + floor(pow(pg_temp.rnd(i, 64), 3) * 120000)::int AS duration_ms) x0,
     LATERAL (SELECT x0.*, x0.status IN ('completed', 'failed', 'cancelled') AS finished) x

-- step: agent_executions
INSERT INTO agent_executions (id, agent_id, user_id, session_id, status, input_data, output_data,
                              error_message, started_at, completed_at, duration_ms)
SELECT pg_temp.gid('ae', i), pg_temp.gid('a', x.j),
       pg_temp.gid('u', pg_temp.owner_of(x.j, pg_temp.n_heavy_agents())),
       'session-' || (i / 8), x.status,
       json_build_object('message', 'Question ' || i, 'history_len', i % 12),
       CASE WHEN x.status = 'completed' THEN json_build_object('answer', 'Answer ' || i, 'sources', i % 4) END,
       CASE WHEN x.status = 'failed' THEN 'LLM error ' || (i % 7) END,
       x.started_at,
       CASE WHEN x.finished THEN x.started_at + x.duration_ms * interval '1 millisecond' END,
       CASE WHEN x.finished THEN x.duration_ms END
FROM generate_series(1, {agent_executions}) AS i, gen_anchor a,
     LATERAL (SELECT pg_temp.pick(i, 70, pg_temp.n_agents(), pg_temp.n_heavy_agents()) AS j,
                     pg_temp.status_of(pg_temp.rnd(i, 72)) AS status,
                     a.now_utc - interval '2 hours' - pg_temp.rnd(i, 73) * interval '363 days' AS started_at,
                     50 + floor(pow(pg_temp.rnd(i, 74), 3) * 60000)::int AS duration_ms) x0,
     LATERAL (SELECT x0.*, x0.status IN ('completed', 'failed', 'cancelled') AS finished) x

-- step: execution_metrics
INSERT INTO execution_metrics (id, execution_id, llm_call_count, prompt_tokens, completion_tokens,
                               total_tokens, cost, created_at, updated_at)
SELECT pg_temp.gid('m', i), pg_temp.gid('ae', i), t.calls, t.prompt, t.completion,
       t.prompt + t.completion, round((t.prompt + t.completion) * 0.000002, 6),
       a.now_utc, a.now_utc
FROM generate_series(1, {agent_executions}) AS i, gen_anchor a,
     LATERAL (SELECT 1 + floor(pg_temp.rnd(i, 80) * 8)::int AS calls,
                     100 + floor(pg_temp.rnd(i, 81) * 3000)::int AS prompt,
                     20 + floor(pg_temp.rnd(i, 82) * 800)::int AS completion) t
WHERE pg_temp.status_of(pg_temp.rnd(i, 72)) IN ('completed', 'failed', 'cancelled')

-- step: agent_memories
INSERT INTO agent_memories (id, agent_id, session_id, type, importance, content, access_count,
                            last_accessed_at, created_at, updated_at)
SELECT pg_temp.gid('mem', i), pg_temp.gid('a', pg_temp.pick(i, 90, pg_temp.n_agents(), pg_temp.n_heavy_agents())),
       'session-' || (i / 6), x.type, x.importance,
       'Memory ' || i || ': ' || repeat('the user prefers concise answers with sources; ', 1 + i % 4),
       x.access_count,
       CASE WHEN x.access_count > 0
            THEN x.created_at + pg_temp.rnd(i, 95) * (a.now_utc - x.created_at) END,
       x.created_at, x.created_at
FROM generate_series(1, {memories}) AS i, gen_anchor a,
     LATERAL (SELECT (ARRAY['short_term','short_term','short_term','short_term','long_term',
                            'long_term','long_term','episodic','episodic','episodic'])[1 + floor(pg_temp.rnd(i, 91) * 10)::int] AS type,
                     (ARRAY['low','low','medium','medium','high'])[1 + floor(pg_temp.rnd(i, 92) * 5)::int] AS importance,
                     floor(pow(pg_temp.rnd(i, 93), 2) * 10)::int AS access_count,
                     a.now_utc - pg_temp.rnd(i, 94) * interval '365 days' AS created_at) x
