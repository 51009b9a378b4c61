"""Memory cleanup while the platform keeps writing: rows/s and the latency of its inserts.

A second connection inserts single rows (autocommit, one every 2 ms) for the
whole cleanup; the inserts that overlapped it give the p95 the goal bounds.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue.bench import baseline, harness, output
from pyglue.bench.timing import Timing, summarize
from pyglue.dburl import libpq_dsn, resolve_url

INSERT_MARKER = "bench-concurrent-insert"  # the session_id of the concurrent inserts
INSERT_PAUSE_S = 0.002
BATCH_SIZE = 5000
NOT_INSERTED = "session_id IS DISTINCT FROM %s"


@dataclass(frozen=True)
class CleanupResult:
    """One cleanup of one database: what it removed, how fast, the concurrent inserts."""

    state: str
    rows_before: int
    rows_deleted: int
    rows_consolidated: int | None
    seconds: float
    rows_per_second: float
    inserts: Timing | None
    remaining: dict[str, int]  # "type/importance" -> rows left (the concurrent inserts excluded)


def _insert_until(
    stop: threading.Event, ready: threading.Event, url: URL, agent_id: uuid.UUID
) -> list[tuple[float, float]]:
    """Single-row inserts into agent_memories until `stop`: (start, latency ms) of each."""
    samples = []
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        ready.set()
        while not stop.is_set():
            start = time.perf_counter()
            conn.execute(
                "INSERT INTO agent_memories (agent_id, session_id, type, importance, content)"
                " VALUES (%s, %s, 'short_term', 'medium', 'a fresh memory')",
                (agent_id, INSERT_MARKER),
            )
            samples.append((start, (time.perf_counter() - start) * 1000))
            time.sleep(INSERT_PAUSE_S)
    return samples


def _rows(url: URL, query: str) -> list[tuple[str, int]]:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        return [(str(k), int(v)) for k, v in conn.execute(query, (INSERT_MARKER,)).fetchall()]


def _count(url: URL) -> int:
    return _rows(url, f"SELECT '', count(*) FROM agent_memories WHERE {NOT_INSERTED}")[0][1]


def measure(
    state: str, url: URL, agent_id: uuid.UUID, cleanup: Callable[[], int | None]
) -> tuple[CleanupResult, list[float]]:
    """Run `cleanup` while a second connection inserts; the result and the inserts' latencies."""
    before = _count(url)
    stop, ready = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        inserts = pool.submit(_insert_until, stop, ready, url, agent_id)
        ready.wait(30)
        time.sleep(0.2)  # the inserter is warm before the cleanup starts
        started = time.perf_counter()
        try:
            consolidated = cleanup()
        finally:
            finished = time.perf_counter()
            time.sleep(0.2)
            stop.set()
        samples = inserts.result()  # raises what the inserter raised
    deleted, seconds = before - _count(url), finished - started
    during = [ms for start, ms in samples if start + ms / 1000 >= started and start <= finished]
    remaining = _rows(
        url, f"SELECT type || '/' || importance, count(*) FROM agent_memories"
        f" WHERE {NOT_INSERTED} GROUP BY 1 ORDER BY 1",
    )  # fmt: skip
    result = CleanupResult(
        state, before, deleted, consolidated, seconds, deleted / seconds if seconds > 0 else 0.0,
        summarize(during) if during else None, dict(remaining),
    )  # fmt: skip
    return result, during


def batched_cleanup(url: URL, batch_size: int, cut_at: list[datetime] | None = None) -> int | None:
    """agentdb's cleanup on an autocommit connection (it commits per batch); consolidated rows.

    `cut_at` receives the instant its rules cut at, for the naive cleanup to reuse.
    """
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        if cut_at is not None:
            cut_at.extend(conn.execute("SELECT timezone('utc', now())").fetchone() or ())
        # the INOUT p_run_id comes back as the CALL's one row
        run = conn.execute("CALL agentdb.run_memory_maintenance(%s, false)", (batch_size,))
        row = conn.execute(
            "SELECT (counts ->> 'consolidated')::int FROM agentdb.maintenance_runs WHERE id = %s",
            run.fetchone(),
        ).fetchone()
    return None if row is None else row[0]


def naive_cleanup(url: URL, now: datetime | None = None) -> int:
    """The plan's MemoryCleanupService (`now` pins its clock); consolidated rows."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            return baseline.cleanup_expired_memories(session, now=now)["consolidated"]
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


# -- pyglue bench memory-cleanup: a synthetic backlog at head, repeated and pooled ------------


@dataclass(frozen=True)
class LatencyResult:
    """Insert latencies pooled over the repeats of one kind of cleanup."""

    cleanup: str
    rows_deleted: int
    cleanup_seconds: float
    inserts: int
    latency: Timing | None


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
) -> list[LatencyResult]:
    """Upgrade `url` to head, load the backlog, time the batched cleanup (and the naive one)."""
    db = resolve_url(url)
    harness.upgrade(db, "head")
    agent_id = uuid.uuid4()
    with psycopg.connect(libpq_dsn(db), autocommit=True) as conn:
        conn.execute(
            "WITH u AS (INSERT INTO users (email) VALUES (%s) RETURNING id)"
            " INSERT INTO agents (id, user_id, name) SELECT %s, id, 'bench agent' FROM u",
            (f"{agent_id}@bench.example", agent_id),
        )
    load_backlog(db, agent_id, 0, live)
    kinds: dict[str, Callable[[], int | None]] = {
        "batched": lambda: batched_cleanup(db, batch_size)
    }
    if naive:
        kinds["naive"] = lambda: naive_cleanup(db)
    results = []
    for kind, cleanup in kinds.items():
        runs = []
        for _ in range(repeat):
            load_backlog(db, agent_id, expired, 0)
            runs.append(measure(kind, db, agent_id, cleanup))
        pooled = [ms for _, latencies in runs for ms in latencies]
        results.append(
            LatencyResult(
                kind, sum(r.rows_deleted for r, _ in runs), sum(r.seconds for r, _ in runs),
                len(pooled), summarize(pooled) if pooled else None,
            )
        )  # fmt: skip
    return results


def report(results: list[LatencyResult]) -> str:
    """The memory-cleanup table."""
    rows = [
        [r.cleanup, f"{r.rows_deleted:,}", f"{r.cleanup_seconds:.2f}", f"{r.inserts:,}",
         *output.timing_cells(r.latency, ("median_ms", "p95_ms", "p99_ms", "max_ms"))]
        for r in results
    ]  # fmt: skip
    header = ["cleanup", "deleted", "seconds", "inserts", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    return output.table(header, rows)
