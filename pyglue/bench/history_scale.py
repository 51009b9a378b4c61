"""History pages against the size of the partitioned history: 1M against 10M runs.

A database at head that has run for a year: monthly partitions for the last
twelve months and the ones ahead; workflow_executions filled with N runs
spread evenly over the year, 1,000 users with 10 workflows each, the
busiest workflow holding 1% of the runs. Then the first page and a page
from the middle of that workflow's history, through the query helper
(pyglue.queries.get_workflow_execution_history), timed `samples` times each.
The page's cost should not grow with the history: an ordered index scan per
month read, and the cursor prunes the months after it.
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from pyglue import queries
from pyglue.dburl import connect, create_engine_for

USERS, WORKFLOWS_PER_USER, MONTHS_BACK = 1000, 10, 12
HEAVY_USER = uuid.UUID(int=1)
HEAVY_WORKFLOW = uuid.UUID(int=10**6 + 1)


@dataclass(frozen=True)
class Pages:
    executions: int
    workflow_runs: int
    first_p50_ms: float
    first_p95_ms: float
    middle_p50_ms: float
    middle_p95_ms: float


def create_past_months(conn: psycopg.Connection[Any], table: str, months_back: int) -> None:
    """The monthly partitions of `table` for the `months_back` months before this one,
    as a database partitioned that long ago has them (0016 makes only the months ahead)."""
    months = conn.execute(
        "SELECT to_char(m, 'YYYY_MM'), m, m + interval '1 month' FROM generate_series("
        " date_trunc('month', timezone('UTC', now())) - make_interval(months => %s),"
        " date_trunc('month', timezone('UTC', now())) - interval '1 month',"
        " interval '1 month') m",
        (months_back,),
    ).fetchall()
    for name, lower, upper in months:
        conn.execute(
            f"CREATE TABLE public.{table}_p{name} PARTITION OF public.{table}"
            f" FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
        )


def _fill(url: str, executions: int) -> None:
    with connect(url, autocommit=True) as conn:
        create_past_months(conn, "workflow_executions", MONTHS_BACK)
        # the platform's users and workflows; triggers off for the bulk load (stats are not timed)
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "CREATE FUNCTION pg_temp.gid(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE"
            " AS $$ SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(n), 12, '0'))::uuid $$"
        )
        conn.execute(
            "INSERT INTO users (id, email) SELECT pg_temp.gid(u), 'u' || u || '@bench'"
            " FROM generate_series(1, %s) u",
            (USERS,),
        )
        conn.execute(
            "INSERT INTO workflows (id, user_id, name, graph_definition)"
            " SELECT pg_temp.gid(1000000 + w), pg_temp.gid((w - 1) %% %s + 1), 'w' || w, '{}'"
            " FROM generate_series(1, %s) w",
            (USERS, USERS * WORKFLOWS_PER_USER),
        )
        # run i: the heavy workflow every 100th, else spread; started evenly over the year
        conn.execute(
            "INSERT INTO workflow_executions"
            " (workflow_id, user_id, status, started_at, duration_ms)"
            " SELECT pg_temp.gid(1000000 + w), pg_temp.gid((w - 1) %% %(users)s + 1),"
            " (ARRAY['completed', 'failed', 'completed', 'running'])[1 + i %% 4],"
            " timezone('UTC', now()) - (i::float8 / %(n)s) * interval '365 days', i %% 5000"
            " FROM generate_series(1, %(n)s) i,"
            " LATERAL (SELECT CASE WHEN i %% 100 = 0 THEN 1"
            "          ELSE 2 + i %% (%(users)s * %(per)s - 1) END AS w) x",
            {"n": executions, "users": USERS, "per": WORKFLOWS_PER_USER},
        )
        conn.execute("SET session_replication_role = origin")
        conn.execute("VACUUM (ANALYZE) workflow_executions")


def _timed(session: Session, before: queries.HistoryCursor | None, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        queries.get_workflow_execution_history(session, HEAVY_USER, HEAVY_WORKFLOW, before=before)
        times.append((time.perf_counter() - start) * 1000)
        session.rollback()
    return sorted(times)


def measure(url: str, executions: int, samples: int) -> Pages:
    _fill(url, executions)
    engine = create_engine_for(url)
    with Session(engine) as session:
        rows = session.execute(
            text(
                "SELECT started_at, id FROM workflow_executions"
                " WHERE user_id = :u AND workflow_id = :w ORDER BY started_at DESC, id DESC"
            ),
            {"u": HEAVY_USER, "w": HEAVY_WORKFLOW},
        ).all()
        history = [queries.HistoryCursor(started_at, id_) for started_at, id_ in rows]
        session.rollback()
        _timed(session, None, 20)  # warm
        first = _timed(session, None, samples)
        middle = _timed(session, history[len(history) // 2], samples)
    engine.dispose()
    p95 = int(0.95 * samples)
    return Pages(executions, len(history), statistics.median(first), first[p95],
                 statistics.median(middle), middle[p95])  # fmt: skip


def report(results: list[Pages]) -> str:
    lines = [
        "| executions | runs of the workflow | first page p50 / p95 | middle page p50 / p95 |",
        "|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.executions:,} | {r.workflow_runs:,}"
            f" | {r.first_p50_ms:.2f} / {r.first_p95_ms:.2f} ms"
            f" | {r.middle_p50_ms:.2f} / {r.middle_p95_ms:.2f} ms |"
        )
    if len(results) == 2:
        small, large = results
        lines.append(
            f"\np95 ratio {large.executions // small.executions}x the history: first page"
            f" {large.first_p95_ms / small.first_p95_ms:.2f}, middle page"
            f" {large.middle_p95_ms / small.middle_p95_ms:.2f} (goal: within 1.20)"
        )
    return "\n".join(lines)


def as_json(results: list[Pages]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
