"""`pyglue bench stats-writes`: what the execution-stats triggers cost a writer, and the dashboard.

1. Throughput: pgbench clients each insert an execution (running) then
   complete it (status, duration), two transactions, for --seconds, with the
   stats triggers disabled and enabled, at 1 and 16 concurrent writers: all on
   the same agent (one hot rollup row per table), each on its own agent of the
   same user, each for its own user.
2. Dashboard: the --scale dataset (full: 1M agent executions) generated at
   revision 0006, upgraded to 0007 (the rollups' backfill, timed) and on to
   head, verified exact; then the heaviest user's dashboard calls are timed
   from a client (prepared, --samples calls) and on the server (EXPLAIN
   ANALYZE), beside the plan's old dashboard (three live aggregations).

On a throwaway cluster fsync and synchronous_commit are off, so commits are
cheap and the triggers' CPU cost shows fully; --durable turns them back on.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue import dashboard
from pyglue.bench import baseline, datagen, harness, output
from pyglue.bench.timing import Timing, summarize, time_calls
from pyglue.dburl import libpq_dsn

STATS_TRIGGERS = (
    ("agent_executions", "agentdb_stats_insert"),
    ("agent_executions", "agentdb_stats_update"),
    ("workflow_executions", "agentdb_stats_insert"),
    ("workflow_executions", "agentdb_stats_update"),
    ("execution_metrics", "agentdb_stats_insert_delete"),
    ("execution_metrics", "agentdb_stats_update"),
)
BENCH_ID = "('00000000-0000-0000-0000-' || lpad(({} + {})::text, 12, '0'))::uuid"
# one pgbench "transaction": insert a running execution, then complete it
PGBENCH_SCRIPT = f"""\\set dur random(1, 5000)
\\set a {{agent}}
\\set u {{user}}
INSERT INTO agent_executions (agent_id, user_id, status, started_at)
VALUES ({BENCH_ID.format(":a", 100)}, {BENCH_ID.format(":u", 1000)},
        'running', timezone('utc', now())) RETURNING id AS exec_id \\gset
UPDATE agent_executions SET status = 'completed', duration_ms = :dur,
       completed_at = timezone('utc', now()) WHERE id = :exec_id;
"""
WRITERS = (1, 16)
# who the concurrent writers write for: one agent of one user (one hot rollup row per table),
# their own agent of that same user (the user row is shared), their own user
SPREADS = (
    ("same agent", "0", "0"),
    ("own agent, same user", ":client_id % 16", "0"),
    ("own user", ":client_id % 16", ":client_id % 16"),
)


@dataclass(frozen=True)
class Throughput:
    writers: int
    spread: str
    stats: bool
    pairs_per_second: float


def _pgbench(url: URL, writers: int, seconds: int, agent: str, user: str) -> float:
    from pyglue.testing import find_bindir

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "insert_complete.sql"
        script.write_text(PGBENCH_SCRIPT.format(agent=agent, user=user))
        out = subprocess.run(
            [str(find_bindir() / "pgbench"), "-n", "-M", "prepared", "-c", str(writers),
             "-j", str(min(writers, 4)), "-T", str(seconds), "-f", str(script), libpq_dsn(url)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def settings(srv: harness.Server) -> str:
    with srv.connect() as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('fsync', 'synchronous_commit', 'shared_buffers', 'server_version') ORDER BY name"
        ).fetchall()
    return "server: " + ", ".join(f"{name}={value}" for name, value in rows)


def make_durable(srv: harness.Server) -> None:
    """Turn durability back on (a throwaway cluster starts with fsync off)."""
    with srv.connect() as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {name} = on")
        conn.execute("SELECT pg_reload_conf()")


def throughput(srv: harness.Server, seconds: int, rounds: int) -> list[Throughput]:
    """Insert-then-complete pairs/s without and with the stats triggers (median of `rounds`)."""
    url = harness.database(srv, "stats_writes", "head")
    results = []
    with srv.connect(url.database) as conn:
        conn.execute(
            f"INSERT INTO users (id, email) SELECT {BENCH_ID.format('g', 1000)},"
            " 'writer' || g || '@bench.test' FROM generate_series(0, 15) g"
        )
        conn.execute(
            f"INSERT INTO agents (id, user_id, name) SELECT {BENCH_ID.format('g', 100)},"
            f" {BENCH_ID.format('g', 1000)}, 'agent ' || g FROM generate_series(0, 15) g"
        )
        for writers in WRITERS:
            for spread, agent, user in SPREADS:
                pairs: dict[bool, list[float]] = {False: [], True: []}
                for _ in range(rounds):
                    for stats in (False, True):
                        conn.execute(
                            "TRUNCATE agent_executions, execution_metrics,"
                            " agent_execution_stats, user_execution_stats"
                        )
                        conn.execute("VACUUM ANALYZE agent_executions")
                        conn.execute("CHECKPOINT")
                        verb = "ENABLE" if stats else "DISABLE"
                        for table, trigger in STATS_TRIGGERS:
                            conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")
                        pairs[stats].append(_pgbench(url, writers, seconds, agent, user))
                results += [
                    Throughput(writers, spread, stats, statistics.median(pairs[stats]))
                    for stats in (False, True)
                ]
    return results


def throughput_table(results: list[Throughput], seconds: int, rounds: int) -> str:
    by_key = {(r.writers, r.spread, r.stats): r.pairs_per_second for r in results}
    rows = []
    for writers in WRITERS:
        for spread, _, _ in SPREADS:
            off, on = by_key[(writers, spread, False)], by_key[(writers, spread, True)]
            rows.append([writers, spread, f"{off:,.0f}", f"{on:,.0f}", f"{on / off:.2f}"])
    header = ["writers", "writing for", "without stats", "with stats", "ratio"]
    caption = "insert-then-complete pairs/s with the stats triggers"
    return f"{caption} (pgbench, {seconds} s x {rounds}, median)\n\n" + output.table(header, rows)


CLIENT_COLUMNS = ("median_ms", "p95_ms", "p99_ms", "max_ms")


@dataclass(frozen=True)
class DashboardCall:
    label: str
    client: Timing  # the round trips from this process, prepared
    server: Timing  # EXPLAIN ANALYZE's execution time: the server's share


def _sent(url: URL, call: Callable[[Session], object]) -> list[tuple[str, Any]]:
    """The statements (and parameters) `call` sends, to replay them without the ORM's cost."""
    engine = create_engine(url, poolclass=NullPool)
    sent: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
    try:
        with Session(engine) as session:
            call(session)
    finally:
        engine.dispose()
    return sent


def _time(conn: psycopg.Connection[Any], statements: list[tuple[str, Any]], n: int) -> list[Timing]:
    def client() -> None:
        for sql, params in statements:
            conn.execute(sql, params, prepare=True).fetchall()

    def server() -> float:
        explain = "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) "
        plans = [conn.execute(explain + sql, params).fetchone() for sql, params in statements]
        return sum(float(plan[0][0]["Execution Time"]) for plan in plans if plan)

    return [time_calls(client, runs=n, warmup=min(50, n)), summarize([server() for _ in range(n)])]


def dashboard_at_scale(
    srv: harness.Server, scale: str, seed: int, samples: int, progress: harness.Progress
) -> tuple[str, list[DashboardCall]]:
    """Build the dataset, time the backfill, then every dashboard call; notes and timings."""
    url = harness.database(srv, "stats_writes_dashboard", "0006")
    started = time.perf_counter()
    data = datagen.generate(url.render_as_string(False), scale, seed=seed, progress=progress)
    notes = [f"generated the {scale} dataset at 0006 in {time.perf_counter() - started:.1f} s"]
    backfill = harness.upgrade(url, "0007")
    notes.append(f"upgrade 0006 -> 0007 (tables, triggers, backfill by month): {backfill:.1f} s")
    harness.upgrade(url, "head")
    harness.vacuum_analyze(url)
    started = time.perf_counter()
    engine = create_engine(url, poolclass=NullPool)
    try:
        diffs = dashboard.verify_execution_stats(engine, date(2000, 1, 1), date(2100, 1, 1))
    finally:
        engine.dispose()
    notes.append(
        f"verify_execution_stats over all history: {len(diffs)} differing rows"
        f" in {time.perf_counter() - started:.1f} s"
    )
    heavy, since = data.heaviest_user_id, baseline.dashboard_since(30)
    today = since.date() + timedelta(days=30)
    calls: list[tuple[str, Callable[[Session], object], int]] = [
        ("user_dashboard(heavy, 30)",
         lambda s: dashboard.user_dashboard(s.connection(), heavy, 30), samples),
        ("user_daily_stats(heavy, 30 days)",
         lambda s: dashboard.user_daily_stats(s.connection(), heavy, today - timedelta(30), today),
         samples),
        ("agent_stats_summary(heavy, 30)",
         lambda s: dashboard.agent_stats_summary(s.connection(), heavy, 30), samples),
        ("user_dashboard(heavy, 365)",
         lambda s: dashboard.user_dashboard(s.connection(), heavy, 365), samples),
        ("old dashboard: 3 aggregations over agent_executions, 30 days",
         lambda s: baseline.dashboard_stats(s, heavy, since), max(10, samples // 100)),
    ]  # fmt: skip
    timings = []
    with srv.connect(url.database) as conn:
        runs, agents = conn.execute(
            "SELECT count(*), count(DISTINCT agent_id) FROM agent_executions WHERE user_id = %s",
            (heavy,),
        ).fetchone() or (0, 0)
        notes.append(f"heaviest user: {runs:,} executions over {agents} agents")
        for label, call, n in calls:
            timings.append(DashboardCall(label, *_time(conn, _sent(url, call), n)))
    return "\n".join(notes), timings


def dashboard_table(calls: list[DashboardCall]) -> str:
    header = ["call", "p50 ms", "p95 ms", "p99 ms", "max ms", "server p50 ms", "server p95 ms"]
    rows = [
        [c.label, *(f"{getattr(c.client, f):.3f}" for f in CLIENT_COLUMNS),
         f"{c.server.median_ms:.3f}", f"{c.server.p95_ms:.3f}"]
        for c in calls
    ]  # fmt: skip
    return output.table(header, rows)
