"""Deterministic, skewed platform data generated server-side with generate_series.

Every value is a pure function of (seed, table, row number) (hashint8extended draws,
md5-derived uuids); related rows are computed arithmetically instead of joined. Skewed
as a real platform: a few heavy users own 5% of the agents and workflows and about 40%
of the runs; agent 1 and workflow 1 are the busiest (1.5% of all runs each); memories
spread over a year. Works at the baseline revision and at head.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from pyglue.dburl import libpq_dsn, resolve_url

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Scale:
    users: int
    agents: int
    workflows: int
    agent_executions: int
    workflow_executions: int
    memories: int
    blocks_per_workflow: int = 20
    edges_per_workflow: int = 25

    @property
    def heavy_users(self) -> int:
        return max(2, round(self.users / 400))

    @property
    def heavy_agents(self) -> int:
        return _multiple_of(max(self.heavy_users, self.agents // 20), self.heavy_users)

    @property
    def heavy_workflows(self) -> int:
        return _multiple_of(max(self.heavy_users, self.workflows // 20), self.heavy_users)


def _multiple_of(value: int, step: int) -> int:
    return max(step, value - value % step)


# every normal user owns at least one agent and one workflow; blocks >= 4, edges >= blocks
SCALES: dict[str, Scale] = {
    "full": Scale(2000, 20_000, 10_000, 1_000_000, 1_000_000, 365_000),
    "medium": Scale(200, 2_000, 1_000, 100_000, 100_000, 36_500),
    "test": Scale(200, 2_000, 1_000, 100_000, 100_000, 20_000),
    "small": Scale(20, 200, 100, 10_000, 10_000, 3_650),
}


@dataclass(frozen=True)
class Dataset:
    """What was generated, and the ids the scenarios look up."""

    scale: Scale
    seed: int
    heaviest_user_id: uuid.UUID
    busiest_agent_id: uuid.UUID
    busiest_workflow_id: uuid.UUID
    sample_agent_id: uuid.UUID
    sample_workflow_id: uuid.UUID
    busy_session_id: str


def generated_id(seed: int, kind: str, number: int) -> uuid.UUID:
    """The uuid the generator gives row `number` of `kind` ('u', 'a', 'w', 'b', ...)."""
    import hashlib

    return uuid.UUID(hashlib.md5(f"{seed}:{kind}:{number}".encode()).hexdigest())  # noqa: S324


def _functions(scale: Scale, seed: int) -> str:
    users, heavy = scale.users, scale.heavy_users
    agents, heavy_agents = scale.agents, scale.heavy_agents
    workflows, heavy_workflows = scale.workflows, scale.heavy_workflows
    normal_users = users - heavy
    return f"""
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
"""


# 45% openai, 25% anthropic, 10% azure, 10% google, 5% ollama, 5% mistral
PROVIDERS = """(ARRAY['openai','openai','openai','openai','openai','openai','openai','openai','openai',
                      'anthropic','anthropic','anthropic','anthropic','anthropic','azure','azure',
                      'google','google','ollama','mistral'])"""
MODELS = """(ARRAY['gpt-4o','gpt-4o-mini','claude-3-5-sonnet','claude-3-haiku','llama3.1:8b','qwen2.5:14b','gpt-4o-azure','gemini-1.5-pro'])"""
NODE_TYPES = """(ARRAY['agent','agent','agent','llm','llm','tool','tool','condition','retriever','retriever'])"""


def _steps(scale: Scale) -> list[tuple[str, str]]:
    bpw, epw = scale.blocks_per_workflow, scale.edges_per_workflow
    return [
        (
            "users",
            f"""
INSERT INTO users (id, email, name, role, created_at, updated_at)
SELECT pg_temp.gid('u', i), 'user' || i || '@example.com', 'User ' || i,
       CASE WHEN i % 100 = 0 THEN 'admin' ELSE 'user' END,
       a.now_utc - interval '730 days' + pg_temp.rnd(i, 10) * interval '365 days',
       a.now_utc - pg_temp.rnd(i, 11) * interval '30 days'
FROM generate_series(1, {scale.users}) AS i, gen_anchor a""",
        ),
        (
            "agents",
            f"""
INSERT INTO agents (id, user_id, name, description, configuration, created_at, updated_at)
SELECT pg_temp.gid('a', j), pg_temp.gid('u', pg_temp.owner_of(j, pg_temp.n_heavy_agents())),
       'Agent ' || j, 'Generated agent ' || j,
       json_build_object(
           'llm_provider', p.provider,
           'llm_model', {MODELS}[1 + floor(pg_temp.rnd(j, 21) * 8)::int],
           'temperature', round((pg_temp.rnd(j, 22))::numeric, 2),
           'max_tokens', 256 * (1 + floor(pg_temp.rnd(j, 23) * 16)::int),
           'system_prompt', 'You are agent ' || j || '. Answer using the knowledge base.',
           'memory', json_build_object('enabled', pg_temp.rnd(j, 24) < 0.7, 'window', 10),
           'tags', json_build_array('team-' || (j % 50), CASE WHEN pg_temp.rnd(j, 25) < 0.1 THEN 'beta' ELSE 'stable' END)
       ),
       a.now_utc - interval '400 days' + pg_temp.rnd(j, 26) * interval '365 days',
       a.now_utc - pg_temp.rnd(j, 27) * interval '30 days'
FROM generate_series(1, {scale.agents}) AS j, gen_anchor a,
     LATERAL (SELECT {PROVIDERS}[1 + floor(pg_temp.rnd(j, 20) * 20)::int] AS provider) p""",
        ),
        (
            "agent_tools",
            f"""
INSERT INTO agent_tools (id, agent_id, name, tool_type, config)
SELECT pg_temp.gid('t', j * 4 + k), pg_temp.gid('a', j),
       (ARRAY['web_search','calculator','sql_query','http_request'])[k],
       (ARRAY['search','math','database','http'])[k],
       json_build_object('timeout_s', 5 * k, 'retries', k % 3)
FROM generate_series(1, {scale.agents}) AS j, generate_series(1, 2) AS k""",
        ),
        (
            "knowledgebases",
            f"""
INSERT INTO knowledgebases (id, user_id, name, description)
SELECT pg_temp.gid('k', i * 2 + k), pg_temp.gid('u', i), 'KB ' || i || '-' || k, 'Documents of user ' || i
FROM generate_series(1, {scale.users}) AS i, generate_series(0, 1) AS k""",
        ),
        (
            "agent_knowledgebases",
            f"""
INSERT INTO agent_knowledgebases (agent_id, knowledgebase_id)
SELECT pg_temp.gid('a', j), pg_temp.gid('k', pg_temp.owner_of(j, pg_temp.n_heavy_agents()) * 2 + (j % 2))
FROM generate_series(1, {scale.agents}) AS j
WHERE pg_temp.rnd(j, 30) < 0.6""",
        ),
        (
            "blocks (staged)",
            f"""
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
FROM generate_series(1, {scale.workflows}) AS w,
     LATERAL (SELECT {bpw} - 4 + floor(pg_temp.rnd(w, 40) * 9)::int AS n) size,
     LATERAL generate_series(0, size.n - 1) AS p,
     LATERAL (SELECT CASE
         WHEN p = 0 THEN 'start'
         WHEN p = size.n - 1 THEN 'end'
         WHEN p = 1 AND pg_temp.rnd(w, 42) < 0.01 THEN 'human_approval'
         WHEN p = 2 AND pg_temp.rnd(w, 43) < 0.03 THEN 'code'
         WHEN pg_temp.rnd(w, 44) < 0.3 AND p % 2 = 1 THEN 'llm'
         ELSE {NODE_TYPES}[1 + floor(pg_temp.rnd(w * 1000 + p, 45) * 10)::int] END AS type) t""",
        ),
        (
            "edges (staged)",
            f"""
CREATE TEMP TABLE gen_edges ON COMMIT DROP AS
SELECT pg_temp.gid('e', w * 1000 + e) AS id, pg_temp.gid('w', w) AS workflow_id,
       pg_temp.gid('b', w * 1000 + s.src) AS source_block_id,
       pg_temp.gid('b', w * 1000 + s.dst) AS target_block_id,
       CASE WHEN e > size.n - 1 THEN 'branch-' || e END AS condition
FROM generate_series(1, {scale.workflows}) AS w,
     LATERAL (SELECT {bpw} - 4 + floor(pg_temp.rnd(w, 40) * 9)::int AS n) size,
     LATERAL generate_series(1, size.n - 1 + ({epw} - {bpw})) AS e,
     LATERAL (SELECT CASE WHEN e <= size.n - 1 THEN e - 1
                          ELSE floor(pg_temp.rnd(w * 1000 + e, 50) * (size.n - 2))::int END AS src) s0,
     LATERAL (SELECT s0.src,
                     CASE WHEN e <= size.n - 1 THEN e
                          ELSE s0.src + 1 + floor(pg_temp.rnd(w * 1000 + e, 51) * (size.n - 1 - s0.src))::int
                     END AS dst) s""",
        ),
        (
            "workflows",
            f"""
INSERT INTO workflows (id, user_id, name, description, graph_definition, created_at, updated_at)
SELECT pg_temp.gid('w', w), pg_temp.gid('u', pg_temp.owner_of(w, pg_temp.n_heavy_workflows())),
       'Workflow ' || w, 'Generated workflow ' || w,
       json_build_object(
           'version', 2,
           'nodes', n.nodes, 'edges', e.edges,
           'viewport', json_build_object('x', 0, 'y', 0, 'zoom', 1)),
       a.now_utc - interval '400 days' + pg_temp.rnd(w, 52) * interval '365 days',
       a.now_utc - pg_temp.rnd(w, 53) * interval '30 days'
FROM generate_series(1, {scale.workflows}) AS w, gen_anchor a,
     (SELECT workflow_id, json_agg(json_build_object('id', 'n' || position, 'type', type,
                                                     'block_id', id, 'label', name)
                                   ORDER BY position) AS nodes
      FROM gen_blocks GROUP BY workflow_id) n,
     (SELECT workflow_id, json_agg(json_build_object('source', source_block_id, 'target', target_block_id)
                                   ORDER BY id) AS edges
      FROM gen_edges GROUP BY workflow_id) e
WHERE n.workflow_id = pg_temp.gid('w', w) AND e.workflow_id = n.workflow_id""",
        ),
        (
            "agent_blocks",
            """
INSERT INTO agent_blocks (id, workflow_id, agent_id, type, name, position, config, sub_blocks)
SELECT id, workflow_id, agent_id, type, name, position, config, sub_blocks FROM gen_blocks""",
        ),
        (
            "workflow_edges",
            """
INSERT INTO workflow_edges (id, workflow_id, source_block_id, target_block_id, condition)
SELECT id, workflow_id, source_block_id, target_block_id, condition FROM gen_edges""",
        ),
        (
            "workflow_executions",
            f"""
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
FROM generate_series(1, {scale.workflow_executions}) AS i, gen_anchor a,
     LATERAL (SELECT pg_temp.pick(i, 60, pg_temp.n_workflows(), pg_temp.n_heavy_workflows()) AS w,
                     pg_temp.status_of(pg_temp.rnd(i, 62)) AS status,
                     a.now_utc - interval '2 hours' - pg_temp.rnd(i, 63) * interval '363 days' AS started_at,
                     200 + floor(pow(pg_temp.rnd(i, 64), 3) * 120000)::int AS duration_ms) x0,
     LATERAL (SELECT x0.*, x0.status IN ('completed', 'failed', 'cancelled') AS finished) x""",
        ),
        (
            "agent_executions",
            f"""
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
FROM generate_series(1, {scale.agent_executions}) AS i, gen_anchor a,
     LATERAL (SELECT pg_temp.pick(i, 70, pg_temp.n_agents(), pg_temp.n_heavy_agents()) AS j,
                     pg_temp.status_of(pg_temp.rnd(i, 72)) AS status,
                     a.now_utc - interval '2 hours' - pg_temp.rnd(i, 73) * interval '363 days' AS started_at,
                     50 + floor(pow(pg_temp.rnd(i, 74), 3) * 60000)::int AS duration_ms) x0,
     LATERAL (SELECT x0.*, x0.status IN ('completed', 'failed', 'cancelled') AS finished) x""",
        ),
        (
            "execution_metrics",
            f"""
INSERT INTO execution_metrics (id, execution_id, llm_call_count, prompt_tokens, completion_tokens,
                               total_tokens, cost, created_at, updated_at)
SELECT pg_temp.gid('m', i), pg_temp.gid('ae', i), t.calls, t.prompt, t.completion,
       t.prompt + t.completion, round((t.prompt + t.completion) * 0.000002, 6),
       a.now_utc, a.now_utc
FROM generate_series(1, {scale.agent_executions}) AS i, gen_anchor a,
     LATERAL (SELECT 1 + floor(pg_temp.rnd(i, 80) * 8)::int AS calls,
                     100 + floor(pg_temp.rnd(i, 81) * 3000)::int AS prompt,
                     20 + floor(pg_temp.rnd(i, 82) * 800)::int AS completion) t
WHERE pg_temp.status_of(pg_temp.rnd(i, 72)) IN ('completed', 'failed', 'cancelled')""",
        ),
        (
            "agent_memories",
            f"""
INSERT INTO agent_memories (id, agent_id, session_id, type, importance, content, access_count,
                            last_accessed_at, created_at, updated_at)
SELECT pg_temp.gid('mem', i), pg_temp.gid('a', pg_temp.pick(i, 90, pg_temp.n_agents(), pg_temp.n_heavy_agents())),
       'session-' || (i / 6), x.type, x.importance,
       'Memory ' || i || ': ' || repeat('the user prefers concise answers with sources; ', 1 + i % 4),
       x.access_count,
       CASE WHEN x.access_count > 0
            THEN x.created_at + pg_temp.rnd(i, 95) * (a.now_utc - x.created_at) END,
       x.created_at, x.created_at
FROM generate_series(1, {scale.memories}) AS i, gen_anchor a,
     LATERAL (SELECT (ARRAY['short_term','short_term','short_term','short_term','long_term',
                            'long_term','long_term','episodic','episodic','episodic'])[1 + floor(pg_temp.rnd(i, 91) * 10)::int] AS type,
                     (ARRAY['low','low','medium','medium','high'])[1 + floor(pg_temp.rnd(i, 92) * 5)::int] AS importance,
                     floor(pow(pg_temp.rnd(i, 93), 2) * 10)::int AS access_count,
                     a.now_utc - pg_temp.rnd(i, 94) * interval '365 days' AS created_at) x""",
        ),
    ]


TABLES = (  # the platform's tables, in the order they are filled
    "users", "agents", "agent_tools", "knowledgebases", "agent_knowledgebases", "workflows",
    "agent_blocks", "workflow_edges", "workflow_executions", "agent_executions",
    "execution_metrics", "agent_memories",
)  # fmt: skip


def generate(url: str, name: str, *, seed: int = 42, progress: Progress | None = None) -> Dataset:
    """Fill an empty platform schema (baseline or head) at `url` at scale `name`, ANALYZE it."""
    scale, say = SCALES[name], progress or (lambda message: None)
    with psycopg.connect(libpq_dsn(resolve_url(url)), autocommit=True) as conn:
        if conn.execute("SELECT EXISTS (SELECT FROM users)").fetchone() != (False,):
            raise ValueError("generate() needs an empty database: users already has rows")
        conn.execute("SET max_parallel_workers_per_gather = 0")
        conn.execute("SET synchronous_commit = off")
        conn.execute(_functions(scale, seed))
        started = time.monotonic()
        with conn.transaction():
            for table, statement in _steps(scale):
                step_started = time.monotonic()
                rows = conn.execute(statement).rowcount
                say(f"{table}: {rows:,} rows in {time.monotonic() - step_started:.1f} s")
        say(f"generated in {time.monotonic() - started:.1f} s; analyzing")
        conn.execute("VACUUM (ANALYZE)")
        sample_workflow = conn.execute(
            "SELECT workflow_id FROM agent_blocks WHERE workflow_id <> ALL(%s)"
            " GROUP BY workflow_id HAVING count(*) = %s AND count(agent_id) > 0"
            " ORDER BY workflow_id LIMIT 1",
            (
                [generated_id(seed, "w", w) for w in range(1, scale.heavy_workflows + 1)],
                scale.blocks_per_workflow,
            ),
        ).fetchone()
    return Dataset(
        scale=scale,
        seed=seed,
        heaviest_user_id=generated_id(seed, "u", 1),
        busiest_agent_id=generated_id(seed, "a", 1),
        busiest_workflow_id=generated_id(seed, "w", 1),
        sample_agent_id=generated_id(seed, "a", scale.heavy_agents + 1),
        sample_workflow_id=(
            sample_workflow[0]
            if sample_workflow
            else generated_id(seed, "w", scale.heavy_workflows + 1)
        ),
        busy_session_id="session-1",
    )
