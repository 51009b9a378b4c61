"""Deterministic, skewed platform data generated server-side with generate_series.

Every value is a pure function of (seed, table, row number) (hashint8extended draws,
md5-derived uuids); related rows are computed arithmetically instead of joined. Skewed
as a real platform: a few heavy users own 5% of the agents and workflows and about 40%
of the runs; agent 1 and workflow 1 are the busiest (1.5% of all runs each); memories
spread over a year. Works at the baseline revision and at head.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

import psycopg

from pyglue.bench import output
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


def _sql(scale: Scale, seed: int) -> list[tuple[str, str]]:
    """The helpers' SQL, then (step, statement) pairs, from datagen.sql filled in for `scale`."""
    text = files("pyglue.bench").joinpath("datagen.sql").read_text(encoding="utf-8")
    values = {
        **{f.name: getattr(scale, f.name) for f in dataclasses.fields(scale)}, "seed": seed,
        "heavy": scale.heavy_users, "normal_users": scale.users - scale.heavy_users,
        "heavy_agents": scale.heavy_agents, "heavy_workflows": scale.heavy_workflows,
        "bpw": scale.blocks_per_workflow, "epw": scale.edges_per_workflow,
    }  # fmt: skip
    functions, *steps = text.format(**values).split("\n-- step: ")
    return [("", functions), *((h, b) for h, _, b in (step.partition("\n") for step in steps))]


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
        (_, functions), *steps = _sql(scale, seed)
        conn.execute(functions)
        started = time.monotonic()
        with conn.transaction():
            for table, statement in steps:
                step_started = time.monotonic()
                rows = conn.execute(statement).rowcount
                say(f"{table}: {rows:,} rows in {time.monotonic() - step_started:.1f} s")
        say(f"generated in {time.monotonic() - started:.1f} s; analyzing")
        conn.execute("VACUUM (ANALYZE)")
        heavy = [generated_id(seed, "w", w) for w in range(1, scale.heavy_workflows + 1)]
        query = output.sql("datagen_sample_workflow")
        sample_workflow = conn.execute(query, (heavy, scale.blocks_per_workflow)).fetchone()
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
