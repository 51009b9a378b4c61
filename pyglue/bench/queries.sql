-- The benchmarks' SQL, one statement per `-- name:` header, loaded by name with
-- pyglue.bench.output.sql(name). psycopg statements take %s / %(name)s, SQLAlchemy's :name;
-- {placeholders} are filled by the caller with str.format.

-- name: stats_writes_settings
SELECT name, setting FROM pg_settings
 WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'server_version')
 ORDER BY name;

-- name: stats_writes_pair
-- one pgbench "transaction": insert a running execution, then complete it
\set dur random(1, 5000)
INSERT INTO agent_executions (agent_id, user_id, status, started_at)
VALUES ({agent}, {user}, 'running', timezone('utc', now())) RETURNING id AS exec_id \gset
UPDATE agent_executions SET status = 'completed', duration_ms = :dur,
       completed_at = timezone('utc', now()) WHERE id = :exec_id;

-- name: stats_writes_users
-- 16 users and an agent of each, with ids pgbench can compute from a number
INSERT INTO users (id, email)
SELECT ('00000000-0000-0000-0000-' || lpad((g + 1000)::text, 12, '0'))::uuid,
       'writer' || g || '@bench.test'
  FROM generate_series(0, 15) g;
INSERT INTO agents (id, user_id, name)
SELECT ('00000000-0000-0000-0000-' || lpad((g + 100)::text, 12, '0'))::uuid,
       ('00000000-0000-0000-0000-' || lpad((g + 1000)::text, 12, '0'))::uuid, 'agent ' || g
  FROM generate_series(0, 15) g;

-- name: stats_writes_reset
TRUNCATE agent_executions, execution_metrics, agent_execution_stats, user_execution_stats,
         agentdb.agent_stats_deltas;

-- name: stats_writes_busiest_agent
SELECT agent_id FROM agent_executions WHERE user_id = :u
 GROUP BY agent_id ORDER BY count(*) DESC LIMIT 1;

-- name: stats_writes_heavy_user
SELECT count(*), count(DISTINCT agent_id) FROM agent_executions WHERE user_id = :u;

-- name: stats_writes_backlog
-- :pairs pairs of deltas that cancel out, spread over the rollup keys of {keys}
WITH k AS MATERIALIZED (SELECT *, row_number() OVER () - 1 AS i FROM ({keys}) k)
INSERT INTO agentdb.agent_stats_deltas
SELECT k.user_id, k.date, k.agent_id, v.sign, v.sign, 0, 0, v.sign, v.sign * 100,
       NULL, false, v.sign * 10, v.sign, v.sign * 0.01
  FROM generate_series(0, :pairs - 1) g
  JOIN k ON k.i = g % (SELECT count(*) FROM k), (VALUES (1), (-1)) v(sign);

-- name: stats_writes_backlog_keys
SELECT count(DISTINCT (user_id, date, agent_id)) FROM agentdb.agent_stats_deltas;

-- name: stats_writes_keys_recent
-- the heaviest user's keys of the last two days: what writers leave behind
SELECT user_id, date, agent_id FROM agent_execution_stats
 WHERE user_id = :user AND date >= timezone('utc', now())::date - 1

-- name: stats_writes_keys_all
-- every rollup key there is: the worst case
SELECT user_id, date, agent_id FROM agent_execution_stats

-- name: cleanup_insert
-- the app's single-row insert during a memory cleanup
INSERT INTO agent_memories (agent_id, session_id, type, importance, content)
VALUES (%s, %s, 'short_term', 'medium', 'a fresh memory')

-- name: cleanup_touch_head
-- the app's recall at head: agentdb's function
SELECT count(*) FROM agentdb.touch_memories(%s::uuid[])

-- name: cleanup_touch_baseline
-- the app's recall at baseline: the same UPDATE by hand
UPDATE agent_memories SET access_count = access_count + 1,
       last_accessed_at = timezone('utc', now())
 WHERE id = ANY(%s::uuid[])

-- name: cleanup_touch_expiring
-- never-recalled short_term memories past their day: the cleanup deletes them
SELECT id FROM agent_memories
 WHERE type = 'short_term' AND access_count = 0
   AND created_at < timezone('utc', now()) - interval '1 day'
 ORDER BY id LIMIT 2000

-- name: cleanup_touch_kept
-- long_term medium memories: the cleanup keeps them
SELECT id FROM agent_memories WHERE type = 'long_term' AND importance = 'medium'
 ORDER BY id LIMIT 2000

-- name: cleanup_server
-- rows (the concurrent inserts excluded), WAL position, dead rows
SELECT (SELECT count(*) FROM agent_memories WHERE session_id IS DISTINCT FROM %s),
       pg_current_wal_lsn() - '0/0', pg_stat_get_dead_tuples('agent_memories'::regclass)

-- name: cleanup_remaining
SELECT type || '/' || importance, count(*) FROM agent_memories
 WHERE session_id IS DISTINCT FROM %s GROUP BY 1 ORDER BY 1

-- name: cleanup_backlog
-- memories of one type and importance, `age` old (one second apart), recalled then if long_term
INSERT INTO agent_memories (agent_id, type, importance, content, created_at, last_accessed_at)
SELECT %(agent)s, %(type)s::text, %(importance)s, repeat('x', 200),
       timezone('utc', now()) - %(age)s::interval - g * interval '1 second',
       CASE WHEN %(type)s::text = 'long_term' THEN timezone('utc', now()) - %(age)s::interval END
  FROM generate_series(1, %(count)s) AS g

-- name: cleanup_agent
WITH u AS (INSERT INTO users (email) VALUES (%s) RETURNING id)
INSERT INTO agents (id, user_id, name) SELECT %s, id, 'bench agent' FROM u RETURNING 1

-- name: retention_setup
-- one old month (2020-01), in a monthly-partitioned table and in a flat one
CREATE TABLE bench_part (id bigint, started_at timestamptz NOT NULL, status text, payload text,
                         PRIMARY KEY (id, started_at)) PARTITION BY RANGE (started_at);
CREATE TABLE bench_part_p2020_01 PARTITION OF bench_part
   FOR VALUES FROM ('2020-01-01') TO ('2020-02-01');
CREATE TABLE bench_part_now PARTITION OF bench_part
   FOR VALUES FROM (date_trunc('month', now())) TO (date_trunc('month', now()) + interval '1 month');
CREATE INDEX ON bench_part (started_at);
CREATE TABLE bench_flat (id bigint PRIMARY KEY, started_at timestamptz NOT NULL, status text,
                         payload text);
CREATE INDEX ON bench_flat (started_at);
INSERT INTO bench_part
SELECT i, timestamptz '2020-01-01' + (i %% 2678400) * interval '1 s', 'completed', repeat('x', 100)
  FROM generate_series(1, %(rows)s) i;
INSERT INTO bench_flat SELECT * FROM bench_part;

-- name: retention_delete_batch
DELETE FROM bench_flat WHERE id IN (SELECT id FROM bench_flat
 WHERE started_at < date_trunc('month', now()) ORDER BY id LIMIT %s)

-- name: context_history_user
-- whoever ran the busiest workflow most, and how often
SELECT user_id, count(*) FROM workflow_executions WHERE workflow_id = :w
 GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1

-- name: context_agent_user
SELECT user_id FROM agent_executions WHERE agent_id = :a
 GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1

-- name: context_deep_cursor
SELECT started_at, id FROM workflow_executions WHERE user_id = :u AND workflow_id = :w
 ORDER BY started_at DESC, id DESC OFFSET :off LIMIT 1

-- name: context_provider
-- the rarest provider that still matches something: a selective search
SELECT configuration ->> 'llm_provider', count(*) FROM agents
 WHERE configuration ->> 'llm_provider' IS NOT NULL GROUP BY 1 ORDER BY count(*), 1 LIMIT 1

-- name: context_node_type
-- the rarest node type that still matches something
SELECT t, count(DISTINCT w.id)
  FROM workflows w,
       LATERAL (SELECT DISTINCT n ->> 'type' AS t
                  FROM json_array_elements(w.graph_definition -> 'nodes') n) x
 WHERE t IS NOT NULL GROUP BY t ORDER BY count(DISTINCT w.id), t LIMIT 1

-- name: context_texts
-- how the stored json texts of the sample agent and workflow write `"key": value`
SELECT (SELECT configuration::text FROM agents WHERE id = :a),
       (SELECT graph_definition::text FROM workflows WHERE id = :w)

-- name: load_population
-- up to :size users who own a workflow with an agent block and an agent, heaviest first
SELECT u.id,
       ARRAY(SELECT DISTINCT b.workflow_id FROM workflows w
               JOIN agent_blocks b ON b.workflow_id = w.id AND b.agent_id IS NOT NULL
              WHERE w.user_id = u.id ORDER BY b.workflow_id LIMIT 10),
       ARRAY(SELECT a.id FROM agents a WHERE a.user_id = u.id ORDER BY a.id LIMIT 10)
  FROM users u ORDER BY (u.id = :heaviest) DESC, md5(u.id::text) LIMIT :size

-- name: server_execution_ms
-- milliseconds this database spent executing statements since the reset (ours excluded)
SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND query NOT LIKE '%pg_stat_statements%'

-- name: server_reset
SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)

-- name: datagen_sample_workflow
-- a workflow of a normal user with every block and at least one agent block
SELECT workflow_id FROM agent_blocks WHERE workflow_id <> ALL(%s)
 GROUP BY workflow_id HAVING count(*) = %s AND count(agent_id) > 0
 ORDER BY workflow_id LIMIT 1
