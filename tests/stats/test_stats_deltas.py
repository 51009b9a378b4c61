"""The write path appends deltas, a fold moves them: exact reads at every snapshot, no waits.

16 writers of one user in random interleavings (under three session time
zones) while a reader compares every read with a recount of the raw rows in
the same snapshot, and a fold runs beside them; a fold killed mid-batch
(terminated, and the postmaster killed) loses and double-counts nothing; two
folds never run at once; a backlog folds in bounded batches while writers go
on; bad batch sizes are refused.
"""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg
import pytest
from factories import add_agent, add_user
from psycopg.rows import dict_row
from sqlalchemy.pool import NullPool
from stats_expected import (
    expected_agents,
    expected_daily,
    expected_dashboard,
    fold_stats,
    normalized,
    raw_executions,
    utc_today,
)

from pyglue import install, stats
from pyglue.dburl import connect, create_engine_for
from pyglue.errors import InvalidArgument
from pyglue.testing import PostgresCluster, run_as_server_user

USER = uuid.UUID(int=0x1100)
AGENTS = [uuid.UUID(int=0x1200 + i) for i in range(4)]
STATUSES = ("pending", "running", "completed", "failed", "cancelled")
WRITERS = 16
TRANSACTIONS_PER_WRITER = 60
FOLD_LOCK = "agentdb-execution-stats-fold"


def _reads_at_one_snapshot(conn: psycopg.Connection[Any], today: date) -> None:
    """Every read function equals the recount of the raw rows, in one REPEATABLE READ snapshot."""
    with conn.transaction():
        raw = raw_executions(conn)
        cur = conn.cursor(row_factory=dict_row)
        dashboard = cur.execute("SELECT * FROM agentdb.user_dashboard(%s, 7)", (USER,)).fetchone()
        daily = cur.execute(
            "SELECT * FROM agentdb.user_daily_stats(%s, %s, %s)",
            (USER, today - timedelta(days=7), today),
        ).fetchall()
        agents = cur.execute("SELECT * FROM agentdb.agent_stats_summary(%s, 7)", (USER,)).fetchall()
    names = {agent: f"agent {i}" for i, agent in enumerate(AGENTS)}
    assert _numbers(dashboard) == normalized(expected_dashboard(raw, USER, 7, today))
    assert [_numbers(d) for d in daily] == [
        normalized(d) for d in expected_daily(raw, USER, today - timedelta(days=7), today)
    ]
    assert [_numbers(a) for a in agents] == [
        normalized(a) for a in expected_agents(raw, names, USER, 7, today)
    ]


def _numbers(row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None
    return {
        k: (v.normalize() if v != 0 else Decimal(0)) if isinstance(v, Decimal) else v
        for k, v in row.items()
    }


def _writer(conninfo: str, seed: str, today: date, time_zone: str) -> None:
    """Single-run transactions: inserts, completions, moves, late metrics, rollbacks."""
    rnd = random.Random(seed)
    mine: list[uuid.UUID] = []
    with connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", (time_zone,))
        for _ in range(TRANSACTIONS_PER_WRITER):
            action = rnd.choice(("insert", "insert", "complete", "move", "metrics", "rollback"))
            if action != "insert" and not mine:
                action = "insert"
            run = rnd.choice(mine) if mine else None
            day = datetime.combine(today - timedelta(days=rnd.randint(0, 2)), datetime.min.time())
            started_at = day + timedelta(microseconds=rnd.choice((0, 1, 86_399_999_999)))
            with conn.transaction(force_rollback=action == "rollback"):
                if action in ("insert", "rollback"):
                    row = conn.execute(
                        "INSERT INTO agent_executions (agent_id, user_id, status, started_at,"
                        " duration_ms) VALUES (%s, %s, %s, %s, %s) RETURNING id",
                        (rnd.choice(AGENTS), USER, rnd.choice(STATUSES), started_at,
                         rnd.choice((None, rnd.randint(0, 5000)))),
                    ).fetchone()  # fmt: skip
                    assert row is not None
                    if action == "insert":
                        mine.append(row[0])
                    else:  # the rolled back transaction also completes and moves the run
                        conn.execute(
                            "UPDATE agent_executions SET status = 'completed', duration_ms = 1,"
                            " agent_id = %s WHERE id = %s",
                            (rnd.choice(AGENTS), row[0]),
                        )
                elif action == "complete":
                    conn.execute(
                        "UPDATE agent_executions SET status = %s, duration_ms = %s WHERE id = %s",
                        (rnd.choice(STATUSES), rnd.choice((None, rnd.randint(0, 5000))), run),
                    )
                elif action == "move":
                    conn.execute(
                        "UPDATE agent_executions SET agent_id = %s, started_at = %s WHERE id = %s",
                        (rnd.choice(AGENTS), started_at, run),
                    )
                else:
                    conn.execute(
                        "INSERT INTO execution_metrics (execution_id, started_at, llm_call_count,"
                        " total_tokens, cost) SELECT id, started_at, %s, %s, %s"
                        " FROM agent_executions WHERE id = %s"
                        " ON CONFLICT (execution_id, started_at) DO UPDATE"
                        " SET llm_call_count = excluded.llm_call_count,"
                        " total_tokens = excluded.total_tokens, cost = excluded.cost",
                        (rnd.randint(0, 9), rnd.randint(0, 9999),
                         Decimal(rnd.randint(0, 10**6)).scaleb(-6), run),
                    )  # fmt: skip


def _run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # a deadlock (40P01) or any error fails the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    return errors


@pytest.mark.slow
@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Seoul", "America/Los_Angeles"])
def test_sixteen_writers_of_one_user_stay_exact_at_every_snapshot(
    head_url: str, time_zone: str
) -> None:
    conninfo = head_url
    with connect(conninfo, autocommit=True) as setup:
        add_user(setup, USER)
        for i, agent in enumerate(AGENTS):
            add_agent(setup, USER, agent, name=f"agent {i}")
        today = utc_today(setup)
    done = threading.Event()
    snapshots_read = 0

    def reader() -> None:
        nonlocal snapshots_read
        with connect(conninfo, autocommit=True) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.execute("SELECT set_config('TimeZone', %s, false)", (time_zone,))
            while not done.is_set():
                _reads_at_one_snapshot(conn, today)
                snapshots_read += 1

    def folder() -> None:
        with connect(conninfo, autocommit=True) as conn:
            while not done.is_set():
                fold_stats(conn)

    def writers() -> None:
        try:
            errors = _run_threads(
                [
                    partial(_writer, conninfo, f"{time_zone} {n}", today, time_zone)
                    for n in range(WRITERS)
                ]
            )
            assert errors == []
        finally:
            done.set()

    assert _run_threads([writers, reader, folder]) == []
    assert snapshots_read > 0
    with connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT set_config('TimeZone', %s, false)", (time_zone,))
        pending = conn.execute("SELECT count(*) FROM agentdb.agent_stats_deltas").fetchone()
        assert pending is not None
        _reads_at_one_snapshot(conn, today)  # with whatever is still pending
        fold_stats(conn)
        assert conn.execute("SELECT count(*) FROM agentdb.agent_stats_deltas").fetchone() == (0,)
        _reads_at_one_snapshot(conn, today)  # from the rollups alone
        diffs = conn.execute(
            "SELECT * FROM agentdb.verify_execution_stats(%s, %s)",
            (today - timedelta(days=3), today),
        ).fetchall()
        assert diffs == []
        deadlocks = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        assert deadlocks == (0,)


LOCK_FOLDS = "SELECT pg_advisory_lock(('x' || substr(md5(%s), 1, 16))::bit(64)::bigint)"


def _backlog(conn: psycopg.Connection[Any], runs: int, today: date) -> None:
    """`runs` completed runs of USER, one pending delta each (no writer folds meanwhile)."""
    add_user(conn, USER)
    for i, agent in enumerate(AGENTS):
        add_agent(conn, USER, agent, name=f"agent {i}")
    # the fold lock held in a transaction: a pooler keeps that server connection for it
    with psycopg.connect(conn.info.dsn, autocommit=True) as holder, holder.transaction():
        holder.execute(
            LOCK_FOLDS.replace("pg_advisory_lock", "pg_advisory_xact_lock"), (FOLD_LOCK,)
        )
        conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id, status, started_at, duration_ms)"
            " SELECT (%s::uuid[])[1 + g %% 4], %s, 'completed', %s - (g %% 3) * interval '1 day', g"
            " FROM generate_series(1, %s) g",
            (AGENTS, USER, datetime.combine(today, datetime.min.time()), runs),
        )
    assert _pending(conn) == runs


def _pending(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM agentdb.agent_stats_deltas").fetchone()
    assert row is not None
    return int(row[0])


def _fold_in_flight(conn: psycopg.Connection[Any], pid: int) -> bool:
    """The fold's backend holds the delta table's lock: it is inside a batch."""
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND granted"
        " AND relation = 'agentdb.agent_stats_deltas'::regclass AND mode = 'RowExclusiveLock')",
        (pid,),
    ).fetchone()
    return bool(row and row[0])


def _start_fold(conninfo: str) -> tuple[threading.Thread, list[BaseException], int]:
    """CALL the fold in one big batch on a thread; return once it is inside the batch."""
    conn = connect(conninfo, autocommit=True)
    pid = conn.info.backend_pid
    errors: list[BaseException] = []

    def fold() -> None:
        try:
            conn.execute("CALL agentdb.fold_execution_stats(10000000)")
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=fold)
    thread.start()
    with connect(conninfo, autocommit=True) as probe:
        deadline = time.monotonic() + 60
        while not _fold_in_flight(probe, pid):
            assert time.monotonic() < deadline
            assert thread.is_alive()
            time.sleep(0.001)
    return thread, errors, pid


def _assert_exact_then_fold_all(conninfo: str, today: date, pending: set[int]) -> None:
    with connect(conninfo, autocommit=True) as conn:
        assert _pending(conn) in pending  # the killed batch: all of it or none of it
        verify = "SELECT * FROM agentdb.verify_execution_stats(%s, %s)"
        assert conn.execute(verify, (today - timedelta(days=3), today)).fetchall() == []
        fold_stats(conn)
        assert _pending(conn) == 0
        assert conn.execute(verify, (today - timedelta(days=3), today)).fetchall() == []
        runs = conn.execute(
            "SELECT status, error LIKE 'abandoned:%%' FROM agentdb.maintenance_runs"
            " WHERE job_name = %s ORDER BY id",
            (FOLD_LOCK,),
        ).fetchall()
        assert runs[-1] == ("succeeded", None)
        assert ("failed", True) in runs  # the killed run, closed by the next one


@pytest.mark.slow
@pytest.mark.direct(reason="pg_terminate_backend of the fold's backend pid")
def test_a_fold_terminated_mid_batch_loses_and_double_counts_nothing(head_url: str) -> None:
    conninfo = head_url
    with connect(conninfo, autocommit=True) as conn:
        today = utc_today(conn)
        _backlog(conn, 100_000, today)
        before = _pending(conn)
    thread, errors, pid = _start_fold(conninfo)
    with connect(conninfo, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(timeout=60)
    assert len(errors) == 1
    _assert_exact_then_fold_all(conninfo, today, {before})


@pytest.mark.slow
def test_a_fold_survives_kill_9_of_the_postmaster() -> None:
    # commits flushed at COMMIT, so that what committed before the crash is there after it
    cluster = PostgresCluster(extra_settings={"synchronous_commit": "on"}).start()
    try:
        url = cluster.create_database("fold_crash")
        engine = create_engine_for(url, poolclass=NullPool)
        try:
            install.upgrade(engine, "head")
        finally:
            engine.dispose()
        conninfo = cluster.url("fold_crash")
        with connect(conninfo, autocommit=True) as conn:
            today = utc_today(conn)
            _backlog(conn, 100_000, today)
            before = _pending(conn)
        thread, _, pid = _start_fold(conninfo)
        _kill_postmaster_and_restart(cluster, pid)
        thread.join(timeout=60)
        _assert_exact_then_fold_all(conninfo, today, {before})
    finally:
        cluster.stop()


def _kill_postmaster_and_restart(cluster: PostgresCluster, backend: int) -> None:
    """kill -9 the postmaster, and the backend inside the fold, as a crash of the machine would."""
    postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    os.kill(backend, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:  # its backends notice and exit; until then the shared memory is in use
        try:
            run_as_server_user(
                [str(cluster.bindir / "pg_ctl"), "-D", str(cluster.datadir),
                 "-l", str(cluster.basedir / "server.log"), "-w", "-t", "60", "start"],
                cwd=cluster.basedir,
            )  # fmt: skip
            break
        except RuntimeError:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    cluster.wait_ready()


def test_two_folds_never_run_at_once(head_url: str) -> None:
    conninfo = head_url
    with connect(conninfo, autocommit=True) as holder:
        today = utc_today(holder)
        _backlog(holder, 10, today)
        # a writer's fold in flight: it holds the fold lock until its transaction ends
        with holder.transaction():
            holder.execute(
                LOCK_FOLDS.replace("pg_advisory_lock", "pg_advisory_xact_lock"), (FOLD_LOCK,)
            )
            with connect(conninfo, autocommit=True) as other:
                fold_stats(other)
                assert other.execute("SELECT agentdb.fold_stats_if_free()").fetchone() == (
                    0,
                )  # a writer's try: nothing, at once
                assert _pending(other) == 10
                skipped = other.execute(
                    "SELECT status, counts FROM agentdb.maintenance_runs WHERE job_name = %s",
                    (FOLD_LOCK,),
                ).fetchall()
                assert skipped == [("skipped", {"reason": "another fold holds the fold lock"})]
        fold_stats(holder)
        assert _pending(holder) == 0


@pytest.mark.slow
def test_a_backlog_folds_in_bounded_batches_while_writers_go_on(head_url: str) -> None:
    conninfo = head_url
    with connect(conninfo, autocommit=True) as conn:
        today = utc_today(conn)
        _backlog(conn, 200_000, today)
    done = threading.Event()
    written = 0

    def writer() -> None:
        nonlocal written
        with connect(conninfo, autocommit=True) as conn:
            while not done.is_set():
                conn.execute(
                    "INSERT INTO agent_executions (agent_id, user_id, status, started_at,"
                    " duration_ms) VALUES (%s, %s, 'completed', %s, 7)",
                    (AGENTS[0], USER, datetime.combine(today, datetime.min.time())),
                )
                written += 1

    def folder() -> None:
        try:
            engine = create_engine_for(head_url, poolclass=NullPool)
            run = stats.fold_execution_stats(engine, batch_size=20_000)
            engine.dispose()
            assert run is not None
            assert run.status == "succeeded"
            assert run.batches >= 10  # 200,000 deltas and more, 20,000 at a time
            assert run.deltas_folded >= 200_000
        finally:
            done.set()

    assert _run_threads([writer, folder]) == []
    assert written > 0
    with connect(conninfo, autocommit=True) as conn:
        fold_stats(conn)
        verify = "SELECT * FROM agentdb.verify_execution_stats(%s, %s)"
        assert conn.execute(verify, (today - timedelta(days=3), today)).fetchall() == []


@pytest.mark.parametrize("batch_size", [0, -1, None])
def test_a_fold_batch_size_must_be_positive(head_url: str, batch_size: int | None) -> None:
    with connect(head_url, autocommit=True) as conn:
        for statement in (
            "CALL agentdb.fold_execution_stats(%s)",
            "SELECT agentdb.fold_stats_batch(%s)",
        ):
            with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
                conn.execute(statement, (batch_size,))
            shown = "NULL" if batch_size is None else str(batch_size)
            message = refused.value.diag.message_primary
            assert message == f"p_batch_size must be a positive integer, not {shown}"
    engine = create_engine_for(head_url, poolclass=NullPool)
    try:
        with pytest.raises(InvalidArgument) as wrapped:
            stats.fold_execution_stats(engine, batch_size)  # type: ignore[arg-type]
        assert wrapped.value.parameter == "batch_size"
    finally:
        engine.dispose()


def test_user_daily_stats_keeps_every_day_where_dst_changes_at_midnight(head_url: str) -> None:
    with connect(head_url, autocommit=True) as conn:
        add_user(conn, USER)
        zones = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM pg_timezone_names z WHERE EXISTS ("
                " SELECT FROM generate_series(timestamp '2024-01-01', '2024-12-31', '1 day') d"
                " WHERE (d AT TIME ZONE z.name) AT TIME ZONE z.name <> d) ORDER BY name"
            )
        ]
        assert "America/Santiago" in zones
        for zone in zones:
            conn.execute("SELECT set_config('TimeZone', %s, false)", (zone,))
            days = conn.execute(
                "SELECT day FROM agentdb.user_daily_stats(%s, '2024-01-01', '2024-12-31')",
                (USER,),
            ).fetchall()
            assert [d for (d,) in days] == [
                date(2024, 1, 1) + timedelta(days=n) for n in range(366)
            ], zone
            dashboard = conn.execute(
                "SELECT period_end - period_start FROM agentdb.user_dashboard(%s, 30)", (USER,)
            ).fetchone()
            assert dashboard == (30,), zone


STATS_ROUTINES = (
    "track_agent_execution_stats", "track_workflow_execution_stats",
    "track_execution_metrics_stats", "fold_stats_batch", "fold_stats_if_free",
    "fold_execution_stats", "agent_stats_now", "user_stats_now", "workflow_stats_now",
    "user_dashboard", "user_daily_stats", "agent_stats_summary", "raw_agent_execution_stats",
    "raw_workflow_execution_stats", "refresh_execution_stats", "verify_execution_stats",
    "check_execution_stats",
)  # fmt: skip
# a CASE whose THEN divides: Citus evaluates both branches, so a guard must be NULLIF
CASE_GUARDED_DIVISION = re.compile(
    r"\bCASE\s+WHEN\b(?:(?!\b(?:END|ELSE)\b).)*?\bTHEN\b(?:(?!\b(?:END|ELSE|WHEN)\b).)*?/",
    re.IGNORECASE | re.DOTALL,
)


def test_stats_routines_fit_a_distributed_postgres(head_url: str) -> None:
    with connect(head_url, autocommit=True) as conn:
        routines = conn.execute(
            "SELECT p.proname, l.lanname, p.pronargs, p.prosrc FROM pg_proc p"
            " JOIN pg_language l ON l.oid = p.prolang"
            " WHERE p.pronamespace = 'agentdb'::regnamespace AND p.proname = ANY(%s)",
            (list(STATS_ROUTINES),),
        ).fetchall()
    assert sorted(name for name, *_ in routines) == sorted(STATS_ROUTINES)
    for name, language, arguments, source in routines:
        assert not CASE_GUARDED_DIVISION.search(source), name
        # Citus pushes no parameterized SQL function down to the shards
        assert language == "plpgsql" or arguments == 0 or "public." not in source, name
