"""Memory cleanup while the platform keeps writing: rows/s and concurrent insert latency.

A second connection inserts single agent_memories rows (autocommit, one every
few milliseconds) for the whole cleanup; their latencies are the p95 the goal
bounds. Head runs first; baseline then uses head's start time as its "now",
so both remove exactly the same rows and the results compare.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue.bench import baseline
from pyglue.bench.timing import Timing, summarize
from pyglue.dburl import libpq_dsn

INSERT_MARKER = "bench-concurrent-insert"
INSERT_PAUSE_S = 0.002
BATCH_SIZE = 5000


@dataclass(frozen=True)
class CleanupResult:
    state: str
    rows_before: int
    rows_deleted: int
    rows_consolidated: int | None
    seconds: float
    rows_per_second: float
    inserts: Timing | None
    remaining: dict[str, int]  # "type/importance" -> rows left (the concurrent inserts excluded)


class _Inserter(threading.Thread):
    """Single-row inserts into agent_memories until stopped, each one timed."""

    def __init__(self, url: URL, agent_id: uuid.UUID) -> None:
        super().__init__(daemon=True)
        self.url, self.agent_id = url, agent_id
        self.samples: list[tuple[float, float]] = []  # (start, latency ms)
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(libpq_dsn(self.url), autocommit=True) as conn:
                self.ready.set()
                n = 0
                while not self.stop.is_set():
                    n += 1
                    start = time.perf_counter()
                    conn.execute(
                        "INSERT INTO agent_memories"
                        " (agent_id, session_id, type, importance, content)"
                        " VALUES (%s, %s, 'short_term', 'medium', %s)",
                        (self.agent_id, INSERT_MARKER, f"concurrent insert {n}"),
                    )
                    self.samples.append((start, (time.perf_counter() - start) * 1000))
                    time.sleep(INSERT_PAUSE_S)
        except BaseException as exc:  # reported by the caller
            self.error = exc
            self.ready.set()


def _scalar(url: URL, query: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return None if row is None else row[0]


def _remaining(url: URL) -> dict[str, int]:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT type || '/' || importance, count(*) FROM agent_memories"
            " WHERE session_id IS DISTINCT FROM %s GROUP BY 1 ORDER BY 1",
            (INSERT_MARKER,),
        ).fetchall()
    return {str(k): int(v) for k, v in rows}


def _measure(state: str, url: URL, agent_id: uuid.UUID, work: Any) -> CleanupResult:
    before = int(_scalar(url, "SELECT count(*) FROM agent_memories"))
    inserter = _Inserter(url, agent_id)
    inserter.start()
    inserter.ready.wait(30)
    time.sleep(0.2)  # a few inserts before the cleanup starts
    started = time.perf_counter()
    try:
        consolidated = work()
    finally:
        finished = time.perf_counter()
        seconds = finished - started
        time.sleep(0.2)
        inserter.stop.set()
        inserter.join(30)
    if inserter.error is not None:
        raise inserter.error
    after = int(
        _scalar(
            url,
            "SELECT count(*) FROM agent_memories WHERE session_id IS DISTINCT FROM %s",
            (INSERT_MARKER,),
        )
    )
    deleted = before - after
    # only the inserts that ran while the cleanup did
    during = [
        ms for start, ms in inserter.samples if start + ms / 1000 >= started and start <= finished
    ]
    return CleanupResult(
        state=state,
        rows_before=before,
        rows_deleted=deleted,
        rows_consolidated=consolidated,
        seconds=seconds,
        rows_per_second=deleted / seconds if seconds > 0 else 0.0,
        inserts=summarize(during) if during else None,
        remaining=_remaining(url),
    )


def run_head(url: URL, agent_id: uuid.UUID) -> tuple[CleanupResult, datetime]:
    """CALL agentdb.run_memory_maintenance on an autocommit connection (it commits per batch)."""
    started_at: list[datetime] = []

    def work() -> int | None:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            row = conn.execute("SELECT timezone('utc', now())::timestamp").fetchone()
            assert row is not None
            started_at.append(row[0])
            # the INOUT p_run_id comes back as the CALL's one row
            call = conn.execute(
                "CALL agentdb.run_memory_maintenance(%s, false)", (BATCH_SIZE,)
            ).fetchone()
            counts = conn.execute(
                "SELECT counts FROM agentdb.maintenance_runs WHERE id = %s",
                (None if call is None else call[0],),
            ).fetchone()
        consolidated = None if counts is None else (counts[0] or {}).get("consolidated")
        return None if consolidated is None else int(consolidated)

    return _measure("head", url, agent_id, work), started_at[0]


def run_baseline(url: URL, agent_id: uuid.UUID, now: datetime | None) -> CleanupResult:
    """The plan's MemoryCleanupService: one transaction, three DELETEs."""

    def work() -> int:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with Session(engine) as session:
                return baseline.cleanup_expired_memories(session, now=now)["consolidated"]
        finally:
            engine.dispose()

    return _measure("baseline", url, agent_id, work)
