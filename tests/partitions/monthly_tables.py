"""A pair of monthly range-partitioned tables like the execution tables after 0012.

public.rx (the parent: agent_executions' shape) and public.rc (its child:
execution_metrics' shape, a foreign key (rx_id, started_at) to rx ON DELETE
CASCADE), both partitioned by RANGE on started_at timestamptz, partitions
<table>_pYYYY_MM with bounds the first of a month UTC, no default partition;
MONTHS months up to the current one, ROWS rows in each table per month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Engine

MONTHS = 6
ROWS = 3


def month_start(at: datetime, back: int = 0) -> datetime:
    """The first of at's month (UTC), `back` months earlier (negative: later)."""
    index = at.year * 12 + at.month - 1 - back
    return at.replace(year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0,
                      second=0, microsecond=0)  # fmt: skip


def suffix(month: datetime) -> str:
    return f"_p{month:%Y_%m}"


@dataclass
class Monthly:
    conn: psycopg.Connection[Any]
    engine: Engine
    now: datetime
    months: list[datetime]  # oldest first; the last one is the current month

    def partitions(self, table: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass ORDER BY 1",
            (f"public.{table}",),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def count(self, table: str) -> int:
        row = self.conn.execute(f"SELECT count(*) FROM public.{table}").fetchone()
        assert row is not None
        return int(row[0])

    def expired(self, keep: timedelta) -> list[datetime]:
        """The months retention drops at self.now with this keep."""
        cutoff = min(self.now - keep, self.months[-1])
        return [m for m in self.months if month_start(m, -1) <= cutoff]


def build(conn: psycopg.Connection[Any]) -> tuple[datetime, list[datetime]]:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    now: datetime = row[0]
    months = [month_start(now, back) for back in range(MONTHS - 1, -1, -1)]
    conn.execute(
        "CREATE TABLE public.rx (id bigint, started_at timestamptz,"
        " PRIMARY KEY (id, started_at)) PARTITION BY RANGE (started_at)"
    )
    conn.execute(
        "CREATE TABLE public.rc (id bigint, rx_id bigint, started_at timestamptz,"
        " PRIMARY KEY (id, started_at),"
        " FOREIGN KEY (rx_id, started_at) REFERENCES public.rx ON DELETE CASCADE)"
        " PARTITION BY RANGE (started_at)"
    )
    for table in ("rx", "rc"):
        for month in months:
            upper = month_start(month, -1)
            conn.execute(
                f"CREATE TABLE public.{table}{suffix(month)} PARTITION OF public.{table}"
                f" FOR VALUES FROM ('{month.isoformat()}') TO ('{upper.isoformat()}')"
            )
    for i, month in enumerate(months):
        for j in range(ROWS):
            started = month + timedelta(hours=j + 1)
            conn.execute(
                "INSERT INTO public.rx (id, started_at) VALUES (%s, %s)", (i * 10 + j, started)
            )
            conn.execute(
                "INSERT INTO public.rc (id, rx_id, started_at) VALUES (%s, %s, %s)",
                (i * 10 + j, i * 10 + j, started),
            )
    return now, months
