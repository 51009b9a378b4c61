"""`pyglue bench stats-writes`: what the execution-stats triggers cost a writer, and the dashboard.

Writers: pgbench clients insert an execution (running) then complete it, two
transactions, with the stats triggers disabled and enabled. Dashboard: the
--scale dataset (full: 1M agent executions) generated at 0006, upgraded to 0007
(the rollups' backfill, timed), to 0009 (triggers that update the rollups in
place) and to head (deltas and a fold), verified exact at both, then timed
idle and while 16 writers of the same user run; last, the fold rate of a
backlog of 1M pending deltas, verified exact after.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from pyglue import stats
from pyglue.bench import baseline, datagen, harness, output, server_side
from pyglue.bench.pgbench import find_pgbench
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
WRITERS = (1, 16, 64)
# the goals: with/without ratio per number of writers
GOALS = {1: 0.90, 16: 0.90, 64: 0.85}
FOLD_BACKLOG = 1_000_000
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
        rows = conn.execute(output.sql("stats_writes_settings")).fetchall()
    return "server: " + ", ".join(f"{name}={value}" for name, value in rows)


def make_durable(srv: harness.Server) -> None:
    """Durability back on: a throwaway cluster starts with fsync off (cheap commits)."""
    with srv.connect() as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {name} = on")
        conn.execute("SELECT pg_reload_conf()")


def _pgbench_command(script: Path, dsn: str, writers: int, seconds: float) -> list[str]:
    command = [str(find_pgbench()), "-n", "-M", "prepared", "-c", str(writers)]
    return [*command, "-j", str(min(writers, 4)), "-T", str(int(seconds)), "-f", str(script), dsn]


def _pair_script(into: Path, agent: str, user: str, head: str = "") -> Path:
    """The insert-then-complete pgbench script for `agent` and `user` (SQL expressions)."""
    pair = output.sql("stats_writes_pair").format(agent=agent, user=user)
    into.write_text(head + pair + "\n")
    return into


def _pgbench(dsn: str, writers: int, seconds: int, agent: str, user: str) -> float:
    """pgbench clients writing for agent and user number `agent` and `user` (expressions)."""
    with tempfile.TemporaryDirectory() as tmp:
        where, numbers = Path(tmp) / "insert_complete.sql", f"\\set a {agent}\n\\set u {user}\n"
        ids = BENCH_ID.format(":a", 100), BENCH_ID.format(":u", 1000)
        script = _pair_script(where, *ids, numbers)
        out = subprocess.run(
            _pgbench_command(script, dsn, writers, seconds),
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
        conn.execute(output.sql("stats_writes_users"))
        for writers in WRITERS:
            for spread, agent, user in SPREADS:
                pairs: dict[bool, list[float]] = {False: [], True: []}
                for _ in range(rounds):
                    for stats in (False, True):
                        conn.execute(output.sql("stats_writes_reset"))
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
            ratio = on / off
            verdict = "PASS" if ratio >= GOALS[writers] else "MISS"
            rows.append([writers, spread, f"{off:,.0f}", f"{on:,.0f}", f"{ratio:.2f}",
                         f">= {GOALS[writers]:.2f} {verdict}"])  # fmt: skip
    header = ["writers", "writing for", "without stats", "with stats", "ratio", "goal"]
    return (
        f"insert-then-complete pairs/s with the stats triggers (pgbench, {seconds} s x {rounds},"
        f" median)\n\n{output.table(header, rows)}"
    )


@dataclass(frozen=True)
class DashboardCall:
    label: str
    timing: Timing
    server_ms: float | None  # PostgreSQL's execution time per call (pg_stat_statements)


def _verify_note(engine: Engine, when: str) -> str:
    started = time.perf_counter()
    diffs = stats.verify_execution_stats(engine, date(2000, 1, 1), date(2100, 1, 1))
    return (
        f"verify_execution_stats over all history {when}: {len(diffs)} differing rows"
        f" in {time.perf_counter() - started:.1f} s"
    )


def _writers_of(engine: Engine, user: uuid.UUID, writers: int) -> subprocess.Popen[str]:
    """pgbench clients writing runs of `user`'s busiest agent until stopped."""
    with engine.connect() as conn:
        query = text(output.sql("stats_writes_busiest_agent"))
        agent = conn.execute(query, {"u": user}).scalar_one()
    where = Path(tempfile.mkdtemp()) / "heavy_user.sql"
    script = _pair_script(where, f"'{agent}'::uuid", f"'{user}'::uuid")
    dsn = libpq_dsn(engine.url)
    return subprocess.Popen(
        _pgbench_command(script, dsn, writers, 3600), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def _fold(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CALL agentdb.fold_execution_stats()"))
    return time.perf_counter() - started


# the keys a backlog of deltas lands on: the heaviest user's agents over the last
# two days (what writers leave behind), or every rollup key there is (the worst case)
BACKLOGS = {
    "the heaviest user's keys of the last 2 days": "stats_writes_keys_recent",
    "every rollup key": "stats_writes_keys_all",
}


def _fold_rate(engine: Engine, user: uuid.UUID) -> str:
    """Fold backlogs of FOLD_BACKLOG deltas that cancel out in pairs, then verify."""
    _fold(engine)  # what the writers left
    notes = []
    for label, keys in BACKLOGS.items():
        with engine.begin() as conn:
            backlog = output.sql("stats_writes_backlog").format(keys=output.sql(keys))
            conn.execute(text(backlog), {"pairs": FOLD_BACKLOG // 2, "user": user})
            spread = conn.execute(text(output.sql("stats_writes_backlog_keys"))).scalar_one()
        seconds = _fold(engine)
        notes.append(
            f"fold of {FOLD_BACKLOG:,} pending deltas over {spread:,} keys ({label}),"
            f" batches of 50,000: {seconds:.2f} s, {FOLD_BACKLOG / seconds:,.0f} deltas/s"
            " (goal >= 200,000)"
        )
    return "\n".join([*notes, _verify_note(engine, "after the folds")])


def dashboard_at_scale(
    srv: harness.Server, scale: str, seed: int, samples: int, progress: harness.Progress
) -> tuple[str, list[DashboardCall]]:
    """Build the dataset, time the backfill, verify, time each dashboard call, fold a backlog."""
    url = harness.database(srv, "stats_writes_dashboard", "0006")
    started = time.perf_counter()
    data = datagen.generate(url.render_as_string(False), scale, seed=seed, progress=progress)
    notes = [f"generated the {scale} dataset at 0006 in {time.perf_counter() - started:.1f} s"]
    backfill = harness.upgrade(url, "0007")
    notes.append(f"upgrade 0006 -> 0007 (tables, triggers, backfill by month): {backfill:.1f} s")
    harness.upgrade(url, "0009")
    engine = create_engine(url)
    timings = []
    try:
        notes.append(_verify_note(engine, "at 0009 (rollups updated in place)"))
        migrate = harness.upgrade(url, "head")
        notes.append(f"upgrade 0009 -> head (deltas and fold): {migrate:.1f} s")
        harness.vacuum_analyze(url)
        notes.append(_verify_note(engine, "at head"))
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
        with engine.connect() as conn:
            query = text(output.sql("stats_writes_heavy_user"))
            runs, agents = conn.execute(query, {"u": heavy}).one()
        notes.append(f"heaviest user: {runs:,} executions over {agents} agents")
        server_time = server_side.enable_statements(engine)
        reset = (lambda: server_side.reset_statements(engine)) if server_time else None
        for writing in (False, True):
            writers = _writers_of(engine, heavy, 16) if writing else None
            try:
                with Session(engine) as session:
                    for label, call, n in calls[: 4 if writing else 5]:
                        timing = time_calls(partial(call, session), runs=n, before_timed=reset)
                        server_ms = server_side.execution_ms(engine) / n if server_time else None
                        suffix = ", 16 writers of that user running" if writing else ""
                        timings.append(DashboardCall(label + suffix, timing, server_ms))
            finally:
                if writers is not None:
                    writers.terminate()
                    writers.wait()
        notes.append(_verify_note(engine, "after the writers"))
        notes.append(_fold_rate(engine, heavy))
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
