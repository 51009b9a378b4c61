"""`pyglue bench stats-writes`: what the execution-stats triggers cost a writer, and the dashboard.

Writers: pgbench clients insert an execution (running) then complete it, two
transactions, with the stats triggers disabled and enabled. Dashboard: the
--scale dataset (full: 1M agent executions) generated at 0006, upgraded to 0007
(the rollups' backfill, timed) and to head, verified exact, then timed.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from pyglue import stats
from pyglue.bench import baseline, datagen, harness, output, server_side
from pyglue.bench.timing import Timing, percentile, time_calls
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
# whom the concurrent writers write for: one agent of one user (one hot rollup row per
# table), their own agent of that same user (the user row is shared), their own user
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


def settings(srv: harness.Server) -> str:
    with srv.connect() as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('fsync', 'synchronous_commit', 'shared_buffers', 'server_version') ORDER BY name"
        ).fetchall()
    return "server: " + ", ".join(f"{name}={value}" for name, value in rows)


def make_durable(srv: harness.Server) -> None:
    """Durability back on: a throwaway cluster starts with fsync off (cheap commits)."""
    with srv.connect() as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {name} = on")
        conn.execute("SELECT pg_reload_conf()")


def _pgbench(dsn: str, writers: int, seconds: int, agent: str, user: str) -> float:
    from pyglue.testing import find_bindir

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "insert_complete.sql"
        script.write_text(PGBENCH_SCRIPT.format(agent=agent, user=user))
        out = subprocess.run(
            [str(find_bindir() / "pgbench"), "-n", "-M", "prepared", "-c", str(writers),
             "-j", str(min(writers, 4)), "-T", str(seconds), "-f", str(script), dsn],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


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
                        for table, trigger in STATS_TRIGGERS:
                            verb = "ENABLE" if stats else "DISABLE"
                            conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")
                        pairs[stats].append(_pgbench(libpq_dsn(url), writers, seconds, agent, user))
                for stats in (False, True):
                    results.append(Throughput(writers, spread, stats, percentile(pairs[stats], 50)))
    return results


def throughput_table(results: list[Throughput], seconds: int, rounds: int) -> str:
    pairs = {(r.writers, r.spread, r.stats): r.pairs_per_second for r in results}
    rows = []
    for writers in WRITERS:
        for spread, _, _ in SPREADS:
            off, on = pairs[(writers, spread, False)], pairs[(writers, spread, True)]
            rows.append([writers, spread, f"{off:,.0f}", f"{on:,.0f}", f"{on / off:.2f}"])
    header = ["writers", "writing for", "without stats", "with stats", "ratio"]
    return (
        f"insert-then-complete pairs/s with the stats triggers (pgbench, {seconds} s x {rounds},"
        f" median)\n\n{output.table(header, rows)}"
    )


@dataclass(frozen=True)
class DashboardCall:
    label: str
    timing: Timing
    server_ms: float | None  # PostgreSQL's execution time per call (pg_stat_statements)


def dashboard_at_scale(
    srv: harness.Server, scale: str, seed: int, samples: int, progress: harness.Progress
) -> tuple[str, list[DashboardCall]]:
    """Build the dataset, time the backfill, verify, then time each dashboard call."""
    url = harness.database(srv, "stats_writes_dashboard", "0006")
    started = time.perf_counter()
    data = datagen.generate(url.render_as_string(False), scale, seed=seed, progress=progress)
    notes = [f"generated the {scale} dataset at 0006 in {time.perf_counter() - started:.1f} s"]
    backfill = harness.upgrade(url, "0007")
    notes.append(f"upgrade 0006 -> 0007 (tables, triggers, backfill by month): {backfill:.1f} s")
    harness.upgrade(url, "head")
    harness.vacuum_analyze(url)
    heavy, since = data.heaviest_user_id, baseline.dashboard_since(30)
    today = since.date() + timedelta(days=30)
    calls: list[tuple[str, Callable[[Session], object], int]] = [
        ("user_dashboard(heavy, 30)",
         lambda s: stats.user_dashboard(s.connection(), heavy, 30), samples),
        ("user_daily_stats(heavy, 30 days)",
         lambda s: stats.user_daily_stats(s.connection(), heavy, since.date(), today),
         samples),
        ("agent_stats_summary(heavy, 30)",
         lambda s: stats.agent_stats_summary(s.connection(), heavy, 30), samples),
        ("user_dashboard(heavy, 365)",
         lambda s: stats.user_dashboard(s.connection(), heavy, 365), samples),
        ("old dashboard: 3 aggregations over agent_executions, 30 days",
         lambda s: baseline.dashboard_stats(s, heavy, since), max(10, samples // 100)),
    ]  # fmt: skip
    engine = create_engine(url)
    timings = []
    try:
        started = time.perf_counter()
        diffs = stats.verify_execution_stats(engine, date(2000, 1, 1), date(2100, 1, 1))
        notes.append(
            f"verify_execution_stats over all history: {len(diffs)} differing rows"
            f" in {time.perf_counter() - started:.1f} s"
        )
        with engine.connect() as conn:
            runs, agents = conn.execute(
                text("SELECT count(*), count(DISTINCT agent_id) FROM agent_executions"
                     " WHERE user_id = :u"), {"u": heavy},
            ).one()  # fmt: skip
        notes.append(f"heaviest user: {runs:,} executions over {agents} agents")
        server_time = server_side.enable_statements(engine)
        with Session(engine) as session:
            for label, call, n in calls:
                reset = (lambda: server_side.reset_statements(engine)) if server_time else None
                timing = time_calls(partial(call, session), runs=n, before_timed=reset)
                server_ms = server_side.execution_ms(engine) / n if server_time else None
                timings.append(DashboardCall(label, timing, server_ms))
    finally:
        engine.dispose()
    return "\n".join(notes), timings


def dashboard_table(calls: list[DashboardCall]) -> str:
    header = ["call", "p50 ms", "p95 ms", "p99 ms", "max ms", "DB exec ms/call"]
    rows = [
        [c.label, *(f"{getattr(c.timing, f):.3f}" for f in ("median_ms", "p95_ms", "p99_ms")),
         f"{c.timing.max_ms:.3f}", "—" if c.server_ms is None else f"{c.server_ms:.3f}"]
        for c in calls
    ]  # fmt: skip
    return output.table(header, rows)
