"""Memory cleanup while the platform keeps working: rows/s, and what the app's statements feel.

A second connection loops for the whole cleanup (autocommit, 2 ms pause):
a single-row insert, a recall (touch) of a memory the cleanup is about to
delete, and one of a memory it keeps. The statements that overlapped the
cleanup give the p95s; WAL written (what a replica must replay) and dead rows
left (what VACUUM must clean) come from the server.
"""

from __future__ import annotations

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
from pyglue.bench.timing import Timing, summarize
from pyglue.dburl import libpq_dsn, resolve_url

INSERT_MARKER = "bench-concurrent-insert"  # the session_id of the concurrent inserts
PAUSE_S = 0.002
BATCH_SIZE = 20_000  # the procedure defaults to 5000; 20k measured faster, touches unhurt
NOT_INSERTED = "session_id IS DISTINCT FROM %s"
INSERT = (
    "INSERT INTO agent_memories (agent_id, session_id, type, importance, content)"
    " VALUES (%s, %s, 'short_term', 'medium', 'a fresh memory')"
)
# the app's recall: agentdb's function at head, the same UPDATE by hand at baseline
TOUCH = {
    "head": "SELECT count(*) FROM agentdb.touch_memories(%s::uuid[])",
    "baseline": "UPDATE agent_memories SET access_count = access_count + 1,"
    " last_accessed_at = timezone('utc', now()) WHERE id = ANY(%s::uuid[])",
}
# never-recalled short_term memories past their day go; long_term medium ones stay
SAMPLES = {
    "touch_expiring": "type = 'short_term' AND access_count = 0"
    " AND created_at < timezone('utc', now()) - interval '1 day'",
    "touch_kept": "type = 'long_term' AND importance = 'medium'",
}
OPS = ("insert", *SAMPLES)
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
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        ready.set()
        i = 0
        while not stop.is_set():
            for op in OPS:
                if op != "insert" and not ids[op]:
                    continue
                args = (
                    (agent_id, INSERT_MARKER) if op == "insert" else ([ids[op][i % len(ids[op])]],)
                )
                start = time.perf_counter()
                conn.execute(INSERT if op == "insert" else touch, args)
                samples[op].append((start, (time.perf_counter() - start) * 1000))
            i += 1
            time.sleep(PAUSE_S)
    return samples


def _query(url: URL, query: str, args: Any = (INSERT_MARKER,)) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        return conn.execute(query, args).fetchall()


def _server(url: URL) -> tuple[int, int, int]:
    """Rows (the inserts excluded), WAL position, dead rows of agent_memories."""
    row = _query(url, f"SELECT (SELECT count(*) FROM agent_memories WHERE {NOT_INSERTED}),"
                 " pg_current_wal_lsn() - '0/0',"
                 " pg_stat_get_dead_tuples('agent_memories'::regclass)")  # fmt: skip
    return int(row[0][0]), int(row[0][1]), int(row[0][2])


def measure(state: str, url: URL, agent_id: uuid.UUID, cleanup: Callable[[], object],
            touch: str | None = None) -> tuple[CleanupResult, dict[str, list[float]]]:  # fmt: skip
    """Run `cleanup` while the app works; the result and the latencies of each op."""
    ids = {op: [r[0] for r in _query(url, f"SELECT id FROM agent_memories WHERE {where}"
                                     " ORDER BY id LIMIT 2000", ())]
           for op, where in SAMPLES.items()}  # fmt: skip
    before, wal, _ = _server(url)
    stop, ready = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        app = pool.submit(_app, stop, ready, url, agent_id, touch or TOUCH[state], ids)
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
    after, wal_after, dead = _server(url)
    during = {
        op: [ms for start, ms in got if start + ms / 1000 >= started and start <= finished]
        for op, got in samples.items()
    }
    remaining = _query(
        url, f"SELECT type || '/' || importance, count(*) FROM agent_memories"
        f" WHERE {NOT_INSERTED} GROUP BY 1 ORDER BY 1",
    )  # fmt: skip
    seconds = finished - started
    result = CleanupResult(
        state, before, before - after, seconds, (before - after) / seconds if seconds > 0 else 0.0,
        {op: summarize(v) if v else None for op, v in during.items()},
        (wal_after - wal) / 1048576, dead, {str(k): int(v) for k, v in remaining},
        os.getloadavg()[0],
    )  # fmt: skip
    return result, during


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
            conn.execute(
                "INSERT INTO agent_memories"
                " (agent_id, type, importance, content, created_at, last_accessed_at)"
                " SELECT %(agent)s, %(type)s::text, %(importance)s, repeat('x', 200),"
                "        timezone('utc', now()) - %(age)s::interval - g * interval '1 second',"
                "        CASE WHEN %(type)s::text = 'long_term'"
                "             THEN timezone('utc', now()) - %(age)s::interval END"
                "   FROM generate_series(1, %(count)s) AS g",
                {"agent": agent_id, "type": type_, "importance": importance, "age": age,
                 "count": count},
            )  # fmt: skip
        conn.execute("VACUUM ANALYZE agent_memories")


def run(
    url: str, *, expired: int, live: int, batch_size: int, naive: bool, repeat: int = 1
) -> list[CleanupResult]:
    """Upgrade `url` to head, load the backlog, time the batched cleanup (and the naive one)."""
    db = resolve_url(url)
    harness.upgrade(db, "head")
    agent_id = uuid.uuid4()
    _query(db, "WITH u AS (INSERT INTO users (email) VALUES (%s) RETURNING id) INSERT INTO"
           " agents (id, user_id, name) SELECT %s, id, 'bench agent' FROM u RETURNING 1",
           (f"{agent_id}@bench.example", agent_id))  # fmt: skip
    load_backlog(db, agent_id, 0, live)
    kinds: dict[str, tuple[Callable[[], object], str]] = {
        "batched": (lambda: batched_cleanup(db, batch_size), TOUCH["head"])
    }
    if naive:
        kinds["naive"] = (lambda: naive_cleanup(db), TOUCH["baseline"])
    results = []
    for kind, (cleanup, touch) in kinds.items():
        runs = []
        for _ in range(repeat):
            load_backlog(db, agent_id, expired, 0)
            runs.append(measure(kind, db, agent_id, cleanup, touch))
        deleted, seconds = sum(r.rows_deleted for r, _ in runs), sum(r.seconds for r, _ in runs)
        pooled = {op: [ms for _, during in runs for ms in during[op]] for op in OPS}
        results.append(CleanupResult(
            kind, sum(r.rows_before for r, _ in runs), deleted, seconds, deleted / seconds,
            {op: summarize(v) if v else None for op, v in pooled.items()},
            sum(r.wal_mb for r, _ in runs), runs[-1][0].dead_rows, {}, os.getloadavg()[0],
        ))  # fmt: skip
    return results
