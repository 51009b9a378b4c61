"""Single-row insert latency into agent_memories while the memory cleanup deletes a backlog.

    python -m pyglue.bench.memory_cleanup [--expired 150000] [--live 50000]
        [--batch-size 5000] [--naive] [--repeat 3] [--database-url URL]

Without --database-url it starts a throwaway cluster (fsync and
synchronous_commit off: latencies are the database's own work, not the
disk's). It loads `--expired` expired memories (60% short_term, 20% episodic
low, 20% long_term low) and `--live` current ones, then one connection inserts
single memories in autocommit, one after the other, while
`CALL agentdb.run_memory_maintenance(batch_size)` runs; the insert latencies
of that window give p50/p95/p99/max. Each cleanup lasts well under a second
on a small machine, so the backlog is loaded and deleted `--repeat` times and
the latencies pooled. `--naive` does the same with the performance plan's
cleanup: one DELETE per rule in one transaction.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url

INSERT = (
    "INSERT INTO agent_memories (agent_id, session_id, type, importance, content)"
    " VALUES (%s, %s, 'short_term', 'medium', %s)"
)
NAIVE_CLEANUP = (
    "DELETE FROM agent_memories WHERE type = 'short_term'"
    " AND created_at < timezone('utc', now()) - interval '24 hours'",
    "DELETE FROM agent_memories WHERE type = 'long_term' AND importance = 'low'"
    " AND last_accessed_at < timezone('utc', now()) - interval '90 days'",
    "DELETE FROM agent_memories WHERE type = 'episodic' AND importance = 'low'"
    " AND created_at < timezone('utc', now()) - interval '30 days'",
)


@dataclass(frozen=True)
class LatencyResult:
    """Insert latencies (ms) measured while one cleanup ran."""

    cleanup: str
    rows_deleted: int
    cleanup_seconds: float
    inserts: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def load_backlog(dsn: str, agent_id: uuid.UUID, expired: int, live: int) -> None:
    """Expired memories under each default policy, plus current ones; then VACUUM ANALYZE."""
    short, episodic = expired * 6 // 10, expired * 2 // 10
    long_term = expired - short - episodic
    content = "x" * 200
    with psycopg.connect(dsn, autocommit=True) as conn:
        for count, type_, importance, age in (
            (short, "short_term", "medium", "2 days"),
            (episodic, "episodic", "low", "40 days"),
            (long_term, "long_term", "low", "120 days"),
            (live, "long_term", "medium", "10 days"),
        ):
            conn.execute(
                "INSERT INTO agent_memories"
                " (agent_id, type, importance, content, created_at, last_accessed_at)"
                " SELECT %(agent)s, %(type)s::text, %(importance)s, %(content)s,"
                "        timezone('utc', now()) - %(age)s::interval - g * interval '1 second',"
                "        CASE WHEN %(type)s::text = 'long_term'"
                "             THEN timezone('utc', now()) - %(age)s::interval END"
                "   FROM generate_series(1, %(count)s) AS g",
                {"agent": agent_id, "type": type_, "importance": importance,
                 "content": content, "age": age, "count": count},
            )  # fmt: skip
        conn.execute("VACUUM ANALYZE agent_memories")


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class _Sample:
    deleted: int
    seconds: float
    latencies: list[float]


def measure(dsn: str, agent_id: uuid.UUID, cleanup: str, batch_size: int) -> _Sample:
    """Insert single rows in a loop while `cleanup` ('batched' or 'naive') runs; their latencies."""
    latencies: list[float] = []
    stop = threading.Event()
    started = threading.Event()

    def insert_loop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET application_name = 'bench-memory-insert'")
            content = "a fresh memory " * 10
            session = f"bench-{uuid.uuid4().hex[:8]}"
            started.set()
            while not stop.is_set():
                begin = time.perf_counter()
                conn.execute(INSERT, (agent_id, session, content), prepare=True)
                latencies.append((time.perf_counter() - begin) * 1000)

    inserter = threading.Thread(target=insert_loop, daemon=True)
    inserter.start()
    started.wait(30)
    time.sleep(0.5)  # the inserter warms up before the cleanup starts
    latencies.clear()
    begin = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        if cleanup == "batched":
            run_id = conn.execute(
                "CALL agentdb.run_memory_maintenance(%s, false, NULL)", (batch_size,)
            ).fetchone()[0]  # type: ignore[index]
            counts = conn.execute(
                "SELECT counts -> 'deleted' FROM agentdb.maintenance_runs WHERE id = %s", (run_id,)
            ).fetchone()[0]  # type: ignore[index]
            deleted = sum(int(v) for v in counts.values())
        else:
            deleted = 0
            with conn.transaction():
                for statement in NAIVE_CLEANUP:
                    deleted += conn.execute(statement).rowcount
    elapsed = time.perf_counter() - begin
    stop.set()
    inserter.join(30)
    return _Sample(deleted, elapsed, list(latencies))


def summarize(cleanup: str, samples: list[_Sample]) -> LatencyResult:
    """One result from the pooled insert latencies of several cleanups."""
    window = [latency for sample in samples for latency in sample.latencies]
    return LatencyResult(
        cleanup=cleanup,
        rows_deleted=sum(sample.deleted for sample in samples),
        cleanup_seconds=sum(sample.seconds for sample in samples),
        inserts=len(window),
        p50_ms=_percentile(window, 50),
        p95_ms=_percentile(window, 95),
        p99_ms=_percentile(window, 99),
        max_ms=max(window),
    )


def prepare_database(url: str) -> uuid.UUID:
    """Upgrade to head and create the user and agent the memories belong to."""
    engine = create_engine(resolve_url(url), poolclass=NullPool)
    try:
        install.upgrade(engine)
    finally:
        engine.dispose()
    agent_id = uuid.uuid4()
    with psycopg.connect(libpq_dsn(resolve_url(url)), autocommit=True) as conn:
        user_id = conn.execute(
            "INSERT INTO users (email) VALUES (%s) RETURNING id", (f"{agent_id}@bench.example",)
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO agents (id, user_id, name) VALUES (%s, %s, 'bench agent')",
            (agent_id, user_id),
        )
    return agent_id


def run(
    url: str, *, expired: int, live: int, batch_size: int, naive: bool, repeat: int = 1
) -> list[LatencyResult]:
    """Load the backlog into `url`, measure during the batched maintenance (and the naive one).

    Each kind of cleanup runs `repeat` times on a reloaded backlog; latencies are pooled.
    """
    agent_id = prepare_database(url)
    dsn = libpq_dsn(resolve_url(url))
    load_backlog(dsn, agent_id, 0, live)
    results = []
    for cleanup in ("batched", "naive") if naive else ("batched",):
        samples = []
        for _ in range(repeat):
            load_backlog(dsn, agent_id, expired, 0)
            samples.append(measure(dsn, agent_id, cleanup, batch_size))
        results.append(summarize(cleanup, samples))
    return results


def report(results: list[LatencyResult]) -> str:
    lines = [
        f"{'cleanup':<8} {'deleted':>9} {'seconds':>8} {'inserts':>8}"
        f" {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    ]
    for r in results:
        lines.append(
            f"{r.cleanup:<8} {r.rows_deleted:>9,} {r.cleanup_seconds:>8.2f} {r.inserts:>8,}"
            f" {r.p50_ms:>7.2f} {r.p95_ms:>7.2f} {r.p99_ms:>7.2f} {r.max_ms:>7.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyglue.bench.memory_cleanup")
    parser.add_argument("--expired", type=int, default=150_000, help="expired rows to delete")
    parser.add_argument("--live", type=int, default=50_000, help="current rows that stay")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--naive", action="store_true", help="also measure the plan's DELETEs")
    parser.add_argument("--repeat", type=int, default=3, help="cleanups per kind, pooled")
    parser.add_argument("--database-url", help="an empty database (default: a throwaway cluster)")
    args = parser.parse_args(argv)
    options = {
        "expired": args.expired, "live": args.live, "batch_size": args.batch_size,
        "naive": args.naive, "repeat": args.repeat,
    }  # fmt: skip
    if args.database_url:
        results = run(args.database_url, **options)
    else:
        from pyglue.testing import throwaway_cluster

        with throwaway_cluster() as cluster:
            cluster.create_database("bench")
            results = run(cluster.url("bench"), **options)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
