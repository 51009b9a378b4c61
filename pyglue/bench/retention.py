"""Retiring one month of executions: DROP of its partition vs today's batched DELETE.

One month of N rows (started_at in an old month) in a monthly-partitioned
table, and the same rows in an unpartitioned one. Each is retired while a
second connection inserts single rows into the current month (autocommit,
one every 2 ms): the time, the WAL written (pg_current_wal_lsn before and
after) and the p95 of the inserts started while it ran.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from pyglue.bench import output
from pyglue.dburl import libpq_dsn, resolve_url

INSERT_PAUSE_S = 0.002
LOCK_TIMEOUT = "500ms"


@dataclass(frozen=True)
class Retirement:
    case: str
    rows: int
    seconds: float
    wal_bytes: int
    inserts: int  # single-row inserts started while it ran
    insert_p95_ms: float | None
    insert_max_ms: float | None


def _setup(conn: psycopg.Connection[Any], rows: int) -> None:
    psycopg.ClientCursor(conn).execute(output.sql("retention_setup"), {"rows": rows})
    conn.execute("VACUUM (ANALYZE) bench_part, bench_flat")
    conn.execute("CHECKPOINT")


def _insert_until(
    url: str, table: str, stop: threading.Event, out: list[tuple[float, float]]
) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        i = 10**12
        while not stop.is_set():
            start = time.perf_counter()
            conn.execute(f"INSERT INTO {table} VALUES (%s, now(), 'running', 'new')", (i,))
            out.append((start, (time.perf_counter() - start) * 1000))
            i += 1
            time.sleep(INSERT_PAUSE_S)


def _lsn(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def _retire(url: str, case: str, rows: int, table: str, batch: int) -> Retirement:
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    writer = threading.Thread(target=_insert_until, args=(url, table, stop, samples))
    writer.start()
    time.sleep(0.5)  # the writer is warm
    with psycopg.connect(url, autocommit=True) as conn:
        before = _lsn(conn)
        start = time.perf_counter()
        if case == "drop":
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            conn.execute("DROP TABLE bench_part_p2020_01")
        else:
            while True:
                if conn.execute(output.sql("retention_delete_batch"), (batch,)).rowcount < batch:
                    break
        end = time.perf_counter()
        row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (before,)).fetchone()
        assert row is not None
    time.sleep(0.2)
    stop.set()
    writer.join()
    during = sorted(ms for at, ms in samples if start <= at <= end)
    p95 = during[min(len(during) - 1, int(0.95 * len(during)))] if during else None
    return Retirement(case, rows, end - start, int(row[0]), len(during), p95,
                      during[-1] if during else None)  # fmt: skip


def run(url: str, rows: int = 1_000_000, batch: int = 10_000) -> list[Retirement]:
    dsn = libpq_dsn(resolve_url(url))
    with psycopg.connect(dsn, autocommit=True) as conn:
        _setup(conn, rows)
    return [
        _retire(dsn, "drop", rows, "bench_part", batch),
        _retire(dsn, f"DELETE, batches of {batch}", rows, "bench_flat", batch),
    ]


def report(results: list[Retirement]) -> str:
    lines = [
        "| retire one month | rows | time | WAL | inserts during | insert p95 | insert max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        p95 = "-" if r.insert_p95_ms is None else f"{r.insert_p95_ms:.2f} ms"
        top = "-" if r.insert_max_ms is None else f"{r.insert_max_ms:.2f} ms"
        lines.append(
            f"| {r.case} | {r.rows:,} | {r.seconds * 1000:,.1f} ms | {r.wal_bytes / 1e6:,.2f} MB"
            f" | {r.inserts} | {p95} | {top} |"
        )
    return "\n".join(lines)
