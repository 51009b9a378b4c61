"""Memory cleanup while the platform keeps working: rows/s, and what the app's statements feel.

A second connection loops for the whole cleanup (autocommit, 2 ms pause):
a single-row insert, a recall (touch) of a memory the cleanup is about to
delete, and one of a memory it keeps. The statements that overlapped the
cleanup give the p95s; WAL written (what a replica must replay) and dead rows
left (what VACUUM must clean) come from the server.

Each cleanup starts right after a CHECKPOINT. The memories a cleanup deletes
were written days ago, so in production a checkpoint has passed since and the
first change to each of their pages writes a full-page image to the WAL.
Without it here, whether a cleanup paid for those images depended on when the
server's last checkpoint happened to run.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue.bench import baseline, harness, output
from pyglue.bench.output import sql
from pyglue.bench.timing import Timing, summarize
from pyglue.dburl import libpq_dsn, resolve_url

INSERT_MARKER = "bench-concurrent-insert"  # the session_id of the concurrent inserts
PAUSE_S = 0.002
BATCH_SIZE = 20_000  # the procedure defaults to 5000; 20k measured faster, touches unhurt
OPS = ("insert", "touch_expiring", "touch_kept")
Samples = dict[str, list[tuple[float, float]]]


@dataclass(frozen=True)
class CleanupResult:
    """One cleanup (or several, pooled): what it removed, how fast, what the app felt."""

    state: str
    rows_before: int
    rows_deleted: int
    seconds: float
    rows_per_second: float
    latency: dict[str, Timing | None]  # per op of OPS, the statements that overlapped
    wal_mb: float
    dead_rows: int  # dead tuples in agent_memories right after: VACUUM's backlog
    remaining: dict[str, int]  # "type/importance" -> rows left (the concurrent inserts excluded)
    load_average: float  # 1-minute, at the end


def _app(stop: threading.Event, ready: threading.Event, url: URL, agent_id: uuid.UUID,
         touch: str, ids: dict[str, list[uuid.UUID]]) -> Samples:  # fmt: skip
    """The app's statements in turn until `stop`: (start, latency ms) of each, per op."""
    samples: Samples = {op: [] for op in OPS}
    ops = [(op, sql("cleanup_insert") if op == "insert" else touch) for op in OPS]
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        ready.set()
        i = 0
        while not stop.is_set():
            for op, statement in ops:
                if op != "insert" and not ids[op]:
                    continue
                start = time.perf_counter()
                args = (
                    (agent_id, INSERT_MARKER) if op == "insert" else ([ids[op][i % len(ids[op])]],)
                )
                conn.execute(statement, args)
                samples[op].append((start, (time.perf_counter() - start) * 1000))
            i += 1
            time.sleep(PAUSE_S)
    return samples


def _query(url: URL, name: str, args: Any = (INSERT_MARKER,)) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        return conn.execute(sql(name), args).fetchall()


def _checkpoint(url: URL) -> None:
    """CHECKPOINT, where the role may (superuser or pg_checkpoint); else nothing."""
    with (
        psycopg.connect(libpq_dsn(url), autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


def measure(state: str, url: URL, agent_id: uuid.UUID, cleanup: Callable[[], object],
            touch: str | None = None) -> tuple[CleanupResult, dict[str, list[float]]]:  # fmt: skip
    """Run `cleanup` while the app works; the result and the latencies of each op."""
    _checkpoint(url)
    ids = {op: [r[0] for r in _query(url, f"cleanup_{op}", ())] for op in OPS[1:]}
    ((before, wal, _),) = _query(url, "cleanup_server")
    stop, ready = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        touch = touch or sql(f"cleanup_touch_{state}")
        app = pool.submit(_app, stop, ready, url, agent_id, touch, ids)
        ready.wait(30)
        time.sleep(0.2)  # the app is warm before the cleanup starts
        started = time.perf_counter()
        try:
            cleanup()
        finally:
            finished = time.perf_counter()
            time.sleep(0.2)
            stop.set()
        samples = app.result()  # raises what the app raised
    ((after, wal_after, dead),) = _query(url, "cleanup_server")
    during = {
        op: [ms for start, ms in got if start + ms / 1000 >= started and start <= finished]
        for op, got in samples.items()
    }
    remaining = {str(k): int(v) for k, v in _query(url, "cleanup_remaining")}
    seconds, deleted = finished - started, before - after
    return CleanupResult(
        state, before, deleted, seconds, deleted / seconds if seconds > 0 else 0.0,
        {op: summarize(v) if v else None for op, v in during.items()},
        (wal_after - wal) / 1048576, dead, remaining, os.getloadavg()[0],
    ), during  # fmt: skip


def batched_cleanup(url: URL, batch_size: int, cut_at: list[datetime] | None = None) -> None:
    """agentdb's cleanup on an autocommit connection (it commits per batch).

    `cut_at` receives the instant its rules cut at, for the naive cleanup to reuse.
    """
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        if cut_at is not None:
            cut_at.extend(conn.execute("SELECT timezone('utc', now())").fetchone() or ())
        conn.execute("CALL agentdb.run_memory_maintenance(%s, false)", (batch_size,))


def naive_cleanup(url: URL, now: datetime | None = None) -> None:
    """The plan's MemoryCleanupService (`now` pins its clock)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            baseline.cleanup_expired_memories(session, now=now)
    finally:
        engine.dispose()


def compare(states: harness.States, agent_id: uuid.UUID) -> list[CleanupResult]:
    """Head's batched cleanup, then the naive one at baseline cutting at the same instant."""
    head_url, base_url, cut_at = states.head_url, states.baseline_url, list[datetime]()
    head, _ = measure(
        "head", head_url, agent_id, lambda: batched_cleanup(head_url, BATCH_SIZE, cut_at)
    )
    base, _ = measure("baseline", base_url, agent_id, lambda: naive_cleanup(base_url, cut_at[0]))
    return [base, head]


def table(results: list[CleanupResult], first: str = "memory cleanup") -> str:
    """One row per cleanup: rows/s and, per app statement, p50 / p95 / max ms."""
    header = [first, "rows deleted", "seconds", "rows/s"]
    header += [f"{op.replace('_', ' ')} p50 / p95 / max ms" for op in OPS]
    rows = [
        [r.state, f"{r.rows_deleted:,}", f"{r.seconds:.2f}", f"{r.rows_per_second:,.0f}",
         *(" / ".join(output.timing_cells(r.latency[op], ("median_ms", "p95_ms", "max_ms")))
           for op in OPS), f"{r.wal_mb:.1f}", f"{r.dead_rows:,}", f"{r.load_average:.1f}"]
        for r in results
    ]  # fmt: skip
    return output.table([*header, "WAL MB", "dead rows after", "load avg"], rows)


# -- pyglue bench memory-cleanup: a synthetic backlog at head, repeated and pooled ------------


def load_backlog(url: URL, agent_id: uuid.UUID, expired: int, live: int) -> None:
    """Expired memories under each default policy, plus current ones; then VACUUM ANALYZE."""
    short, episodic = expired * 6 // 10, expired * 2 // 10
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        for count, type_, importance, age in (
            (short, "short_term", "medium", "2 days"),
            (episodic, "episodic", "low", "40 days"),
            (expired - short - episodic, "long_term", "low", "120 days"),
            (live, "long_term", "medium", "10 days"),
        ):
            values = {"type": type_, "importance": importance, "age": age, "count": count}
            conn.execute(sql("cleanup_backlog"), {"agent": agent_id, **values})
        conn.execute("VACUUM ANALYZE agent_memories")


def run(
    url: str, *, expired: int, live: int, batch_size: int, naive: bool, repeat: int = 1
) -> list[CleanupResult]:
    """Upgrade `url` to head, load the backlog, time the batched cleanup (and the naive one)."""
    db, agent_id = resolve_url(url), uuid.uuid4()
    harness.upgrade(db, "head")
    _query(db, "cleanup_agent", (f"{agent_id}@bench.example", agent_id))
    load_backlog(db, agent_id, 0, live)
    kinds: dict[str, tuple[Callable[[], object], str]] = {
        "batched": (lambda: batched_cleanup(db, batch_size), sql("cleanup_touch_head"))
    }
    if naive:
        kinds["naive"] = (lambda: naive_cleanup(db), sql("cleanup_touch_baseline"))
    measured: dict[str, list[tuple[CleanupResult, dict[str, list[float]]]]] = {k: [] for k in kinds}
    for _ in range(repeat):  # the kinds take turns, so that a drift of the machine hits both
        for kind, (cleanup, touch) in kinds.items():
            load_backlog(db, agent_id, expired, 0)
            measured[kind].append(measure(kind, db, agent_id, cleanup, touch))
    results = []
    for kind, runs in measured.items():
        deleted, seconds = sum(r.rows_deleted for r, _ in runs), sum(r.seconds for r, _ in runs)
        pooled = {op: [ms for _, during in runs for ms in during[op]] for op in OPS}
        results.append(CleanupResult(
            kind, sum(r.rows_before for r, _ in runs), deleted, seconds, deleted / seconds,
            {op: summarize(v) if v else None for op, v in pooled.items()},
            sum(r.wal_mb for r, _ in runs), runs[-1][0].dead_rows, {}, os.getloadavg()[0],
        ))  # fmt: skip
    return results
