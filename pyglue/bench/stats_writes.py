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

import os
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
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, text
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
PGBENCH_PAIR = """\\set dur random(1, 5000)
INSERT INTO agent_executions (agent_id, user_id, status, started_at)
VALUES ({agent}, {user}, 'running', timezone('utc', now())) RETURNING id AS exec_id \\gset
UPDATE agent_executions SET status = 'completed', duration_ms = :dur,
       completed_at = timezone('utc', now()) WHERE id = :exec_id;
"""
PGBENCH_SCRIPT = "\\set a {agent}\n\\set u {user}\n" + PGBENCH_PAIR.format(
    agent=BENCH_ID.format(":a", 100), user=BENCH_ID.format(":u", 1000)
)
SLOT_TRIGGERS = (
    ("agent_executions", "agentdb_slots_insert"),
    ("agent_executions", "agentdb_slots_update"),
)
SLOTS_SQL = Path(__file__).with_name("stats_slots.sql")
SLOTS_DEFAULT = 16
# the designs of issue 11 the writers can run with: no stats triggers at all (the
# baseline of every ratio), (a) deltas + fold (head), (b) slotted rows (bench-only SQL)
DESIGNS = ("deltas", "slots")
DESIGN_LABELS = {"none": "without stats", "deltas": "(a) deltas", "slots": "(b) slots"}
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
    design: str  # "none", or one of DESIGNS
    pairs_per_second: float


def install_slots(conn: Any, slots: int) -> None:
    """Design (b) into this database: fold (a)'s pending deltas, then slot tables,
    triggers (disabled) and the reads of rollups plus slots (bench-only SQL)."""
    sql = SLOTS_SQL.read_text()
    marker = f"c_slots CONSTANT integer := {SLOTS_DEFAULT};"
    if marker not in sql:
        raise RuntimeError(f"{SLOTS_SQL} lost its {marker!r}")
    use_design(conn, "none")  # no delta is appended after the fold below
    conn.execute("CALL agentdb.fold_execution_stats()")
    if conn.execute("SELECT count(*) FROM agentdb.agent_stats_deltas").fetchone()[0]:
        raise RuntimeError("design (b) needs every pending delta folded first (a fold was busy?)")
    conn.execute(sql.replace(marker, f"c_slots CONSTANT integer := {slots};"))
    for table, trigger in SLOT_TRIGGERS:
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")


def use_design(conn: Any, design: str) -> None:
    """Enable the write triggers of `design` ("none": no stats triggers), disable the rest."""
    for table, trigger in STATS_TRIGGERS:
        verb = "ENABLE" if design == "deltas" else "DISABLE"
        conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")
    if conn.execute("SELECT to_regclass('agentdb.agent_stats_slots') IS NOT NULL").fetchone()[0]:
        for table, trigger in SLOT_TRIGGERS:
            verb = "ENABLE" if design == "slots" else "DISABLE"
            conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")


def settings(srv: harness.Server) -> str:
    with srv.connect() as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('fsync', 'synchronous_commit', 'shared_buffers', 'server_version') ORDER BY name"
        ).fetchall()
    return "server: " + ", ".join(f"{name}={value}" for name, value in rows)


def _pgbench_command(script: Path, dsn: str, writers: int, seconds: float) -> list[str]:
    from pyglue.testing import find_bindir

    command = [str(find_bindir() / "pgbench"), "-n", "-M", "prepared", "-c", str(writers)]
    return [*command, "-j", str(min(writers, 4)), "-T", str(int(seconds)), "-f", str(script), dsn]


def _pgbench(dsn: str, writers: int, seconds: int, agent: str, user: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "insert_complete.sql"
        script.write_text(PGBENCH_SCRIPT.format(agent=agent, user=user))
        out = subprocess.run(
            _pgbench_command(script, dsn, writers, seconds),
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def throughput(
    srv: harness.Server,
    seconds: int,
    rounds: int,
    designs: tuple[str, ...] = ("deltas",),
    slots: int = SLOTS_DEFAULT,
) -> list[Throughput]:
    """Insert-then-complete pairs/s without stats and with each design (median of `rounds`;
    within a round the designs run back to back, so they share the machine's load)."""
    url = harness.database(srv, "stats_writes", "head")
    results = []
    with srv.connect(url.database) as conn:
        conn.autocommit = True
        if "slots" in designs:
            install_slots(conn, slots)
        conn.execute(
            f"INSERT INTO users (id, email) SELECT {BENCH_ID.format('g', 1000)},"
            " 'writer' || g || '@bench.test' FROM generate_series(0, 15) g"
        )
        conn.execute(
            f"INSERT INTO agents (id, user_id, name) SELECT {BENCH_ID.format('g', 100)},"
            f" {BENCH_ID.format('g', 1000)}, 'agent ' || g FROM generate_series(0, 15) g"
        )
        truncate = (
            "agent_executions, execution_metrics, agent_execution_stats,"
            " user_execution_stats, agentdb.agent_stats_deltas"
        )
        if "slots" in designs:
            truncate += ", agentdb.agent_stats_slots, agentdb.user_stats_slots"
        for writers in WRITERS:
            for spread, agent, user in SPREADS:
                pairs: dict[str, list[float]] = {d: [] for d in ("none", *designs)}
                for _ in range(rounds):
                    for design in pairs:
                        # no ANALYZE of the emptied table: with reltuples = 0 the
                        # prepared UPDATE ... WHERE id = $1 got a cached generic plan
                        # that seq-scans the growing table (hundreds of us a pair by
                        # the end of a run); after TRUNCATE reltuples is -1 and the
                        # primary key is used, as on any real agent_executions
                        conn.execute(f"TRUNCATE {truncate}")
                        conn.execute("CHECKPOINT")
                        use_design(conn, design)
                        pairs[design].append(
                            _pgbench(libpq_dsn(url), writers, seconds, agent, user)
                        )
                for design, runs in pairs.items():
                    results.append(Throughput(writers, spread, design, percentile(runs, 50)))
    return results


def throughput_table(results: list[Throughput], seconds: int, rounds: int) -> str:
    pairs = {(r.writers, r.spread, r.design): r.pairs_per_second for r in results}
    designs = [d for d in DESIGNS if any(r.design == d for r in results)]
    rows = []
    for writers in WRITERS:
        for spread, _, _ in SPREADS:
            off = pairs[(writers, spread, "none")]
            row: list[object] = [writers, spread, f"{off:,.0f}"]
            for design in designs:
                on = pairs[(writers, spread, design)]
                verdict = "PASS" if on / off >= GOALS[writers] else "MISS"
                row += [f"{on:,.0f}", f"{on / off:.2f} {verdict}"]
            rows.append([*row, f">= {GOALS[writers]:.2f}"])
    header = ["writers", "writing for", DESIGN_LABELS["none"]]
    for design in designs:
        header += [DESIGN_LABELS[design], "ratio"]
    header.append("goal")
    return (
        f"insert-then-complete pairs/s with the stats triggers (pgbench, {seconds} s x {rounds},"
        f" median)\n\n{output.table(header, [*rows])}"
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
        agent = conn.execute(
            text("SELECT agent_id FROM agent_executions WHERE user_id = :u"
                 " GROUP BY agent_id ORDER BY count(*) DESC LIMIT 1"), {"u": user},
        ).scalar_one()  # fmt: skip
    script = Path(tempfile.mkdtemp()) / "heavy_user.sql"
    script.write_text(PGBENCH_PAIR.format(agent=f"'{agent}'::uuid", user=f"'{user}'::uuid"))
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
    "the heaviest user's keys of the last 2 days": (
        "SELECT user_id, date, agent_id FROM agent_execution_stats"
        " WHERE user_id = :user AND date >= timezone('utc', now())::date - 1"
    ),
    "every rollup key": "SELECT user_id, date, agent_id FROM agent_execution_stats",
}


def _fold_rate(engine: Engine, user: uuid.UUID) -> str:
    """Fold backlogs of FOLD_BACKLOG deltas that cancel out in pairs, then verify."""
    _fold(engine)  # what the writers left
    notes = []
    for label, keys in BACKLOGS.items():
        with engine.begin() as conn:
            conn.execute(text(
                f"WITH k AS MATERIALIZED (SELECT *, row_number() OVER () - 1 AS i FROM ({keys}) k)"
                " INSERT INTO agentdb.agent_stats_deltas"
                " SELECT k.user_id, k.date, k.agent_id, v.sign, v.sign, 0, 0, v.sign, v.sign * 100,"
                "        NULL, false, v.sign * 10, v.sign, v.sign * 0.01"
                "   FROM generate_series(0, :pairs - 1) g"
                "   JOIN k ON k.i = g % (SELECT count(*) FROM k), (VALUES (1), (-1)) v(sign)"
            ), {"pairs": FOLD_BACKLOG // 2, "user": user})  # fmt: skip
            spread = conn.execute(text(
                "SELECT count(DISTINCT (user_id, date, agent_id)) FROM agentdb.agent_stats_deltas"
            )).scalar_one()  # fmt: skip
        seconds = _fold(engine)
        notes.append(
            f"fold of {FOLD_BACKLOG:,} pending deltas over {spread:,} keys ({label}),"
            f" batches of 50,000: {seconds:.2f} s, {FOLD_BACKLOG / seconds:,.0f} deltas/s"
            " (goal >= 200,000)"
        )
    return "\n".join([*notes, _verify_note(engine, "after the folds")])


def _backends_gone(engine: Engine) -> None:
    """Wait until pgbench's backends have ended (a terminated client's last commits land)."""
    with engine.connect() as conn:
        for _ in range(600):
            left = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'"
                " AND datname = current_database()"
            )).scalar_one()  # fmt: skip
            if left == 0:
                return
            time.sleep(0.05)
            conn.rollback()
    raise RuntimeError("pgbench's backends did not end within 30 s")


def _has_slots(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT to_regclass('agentdb.agent_stats_slots') IS NOT NULL")
            ).scalar()
        )


def _pin_apart(engine: Engine, session: Session, writers: subprocess.Popen[str]) -> None:
    """The reader (this process and its backend) on CPU 0; pgbench and its backends on CPU 1."""
    with engine.connect() as conn:
        backends = conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'"
            " AND datname = current_database()"
        )).scalars().all()  # fmt: skip
    for pid in [writers.pid, *backends]:
        subprocess.run(["taskset", "-pc", "1", str(pid)], check=True, capture_output=True)
    reader = session.connection().execute(text("SELECT pg_backend_pid()")).scalar_one()
    subprocess.run(["taskset", "-pc", "0", str(reader)], check=True, capture_output=True)
    os.sched_setaffinity(0, {0})


def _plan_only(message: str) -> str:
    """auto_explain's message without its Query Text: the duration line and the plan."""
    lines = message.splitlines()
    start = next((i for i, line in enumerate(lines) if "(actual" in line), len(lines))
    return "\n".join([lines[0], *lines[start:]])


def _plan_under_load(session: Session, user: uuid.UUID, design: str, pinned: bool) -> str:
    """The plan user_dashboard's read runs with, as executed (auto_explain to this client)."""
    notices: list[str] = []
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    raw.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    conn = session.connection()
    for setting in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                    "SET auto_explain.log_analyze = on", "SET auto_explain.log_buffers = on",
                    "SET auto_explain.log_nested_statements = on",
                    "SET auto_explain.log_level = notice"):  # fmt: skip
        conn.execute(text(setting))
    stats.user_dashboard(conn, user, 30)
    conn.execute(text("RESET auto_explain.log_min_duration"))
    session.commit()
    where = f"{DESIGN_LABELS[design]}, 16 writers" + (", pinned apart" if pinned else "")
    plans = [_plan_only(n) for n in notices if "user_stats_slots" in n or "agent_stats_deltas" in n]
    return f"plan of user_dashboard's read ({where}):\n" + ("\n".join(plans) or "(none logged)")


def dashboard_at_scale(
    srv: harness.Server,
    scale: str,
    seed: int,
    samples: int,
    progress: harness.Progress,
    designs: tuple[str, ...] = ("deltas",),
    slots: int = SLOTS_DEFAULT,
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
            runs, agents = conn.execute(
                text("SELECT count(*), count(DISTINCT agent_id) FROM agent_executions"
                     " WHERE user_id = :u"), {"u": heavy},
            ).one()  # fmt: skip
        notes.append(f"heaviest user: {runs:,} executions over {agents} agents")
        server_time = server_side.enable_statements(engine)
        reset = (lambda: server_side.reset_statements(engine)) if server_time else None
        # passes: idle; 16 writers of the heavy user, reader free and pinned apart
        # from them; then the same under design (b) when asked for
        passes: list[tuple[str, bool, bool]] = [("", False, False)]
        for design in designs:
            passes.append((design, True, False))
            if (os.cpu_count() or 1) >= 2:  # one CPU for the reader, one for the writers
                passes.append((design, True, True))
        for design, writing, pinned in passes:
            if writing and design == "slots" and not _has_slots(engine):
                with psycopg.connect(libpq_dsn(engine.url), autocommit=True) as conn:
                    install_slots(conn, slots)
                notes.append(_verify_note(engine, "after installing design (b) (slots)"))
            if writing:
                with psycopg.connect(libpq_dsn(engine.url), autocommit=True) as conn:
                    use_design(conn, design)
            writers = _writers_of(engine, heavy, 16) if writing else None
            try:
                with Session(engine) as session:
                    if writers is not None:
                        time.sleep(2)  # every writer connected
                        if pinned:
                            _pin_apart(engine, session, writers)
                        notes.append(_plan_under_load(session, heavy, design, pinned))
                    for label, call, n in calls[: 4 if writing else 5]:
                        reset = (
                            (lambda: server_side.reset_statements(engine)) if server_time else None
                        )
                        timing = time_calls(partial(call, session), runs=n, before_timed=reset)
                        # under writers, only the call's own statement (agentdb.<function>)
                        calling = label.split("(")[0] if writing else None
                        server_ms = (
                            server_side.execution_ms(engine, calling=calling) / n
                            if server_time
                            else None
                        )
                        suffix = ""
                        if writing:
                            suffix = f", {DESIGN_LABELS[design]}, 16 writers of that user running"
                            suffix += ", reader pinned to CPU 0, writers to CPU 1" if pinned else ""
                        timings.append(DashboardCall(label + suffix, timing, server_ms))
            finally:
                os.sched_setaffinity(0, range(os.cpu_count() or 1))
                if writers is not None:
                    writers.terminate()
                    writers.wait()
                    _backends_gone(engine)
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
