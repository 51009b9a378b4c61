"""Execution-stats tests' oracle: the dashboard figures computed in Python from the raw rows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from sqlalchemy.engine import make_url

from pyglue.dburl import libpq_dsn

TERMINAL = ("completed", "failed", "cancelled")


def dsn(url: str) -> str:
    """A psycopg conninfo for a SQLAlchemy URL."""
    return libpq_dsn(make_url(url))


@dataclass(frozen=True)
class RawExecution:
    id: uuid.UUID
    agent_id: uuid.UUID
    user_id: uuid.UUID
    status: str
    started_at: datetime
    duration_ms: int | None
    total_tokens: int | None
    llm_call_count: int | None
    cost: Decimal | None


def raw_executions(conn: psycopg.Connection[Any]) -> list[RawExecution]:
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "SELECT e.id, e.agent_id, e.user_id, e.status, e.started_at, e.duration_ms, "
            "       m.total_tokens, m.llm_call_count, m.cost "
            "  FROM agent_executions e LEFT JOIN execution_metrics m ON m.execution_id = e.id"
        )
        .fetchall()
    )
    return [RawExecution(*row) for row in rows]


def utc_today(conn: psycopg.Connection[Any]) -> date:
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute("SELECT (timezone('utc', now()))::date")
        .fetchone()
    )
    assert row is not None
    today: date = row[0]
    return today


def _rate(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _avg(total: int, count: int) -> int | None:
    if count == 0:
        return None
    return int((Decimal(total) / Decimal(count)).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class Totals:
    """Counters of a set of raw executions, summed exactly."""

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    duration_count: int = 0
    duration_sum: int = 0
    durations: list[int] = field(default_factory=list)
    total_tokens: int = 0
    total_llm_calls: int = 0
    total_cost: Decimal = Decimal(0)
    last_day: date | None = None

    def add(self, e: RawExecution) -> None:
        self.total += 1
        self.succeeded += e.status == "completed"
        self.failed += e.status == "failed"
        self.cancelled += e.status == "cancelled"
        if e.duration_ms is not None:
            self.duration_count += 1
            self.duration_sum += e.duration_ms
            self.durations.append(e.duration_ms)
        self.total_tokens += e.total_tokens or 0
        self.total_llm_calls += e.llm_call_count or 0
        self.total_cost += e.cost or Decimal(0)
        day = e.started_at.date()
        self.last_day = day if self.last_day is None else max(self.last_day, day)

    def common(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "success_rate": _rate(self.succeeded, self.total),
            "avg_duration_ms": _avg(self.duration_sum, self.duration_count),
            "total_tokens": self.total_tokens,
            "total_llm_calls": self.total_llm_calls,
            "total_cost": self.total_cost,
        }

    def with_min_max(self) -> dict[str, Any]:
        return {
            **self.common(),
            "min_duration_ms": min(self.durations) if self.durations else None,
            "max_duration_ms": max(self.durations) if self.durations else None,
        }


def expected_dashboard(
    raw: list[RawExecution], user_id: uuid.UUID, days: int, today: date
) -> dict[str, Any]:
    start = today - timedelta(days=days)
    totals = Totals()
    for e in raw:
        if e.user_id == user_id and start <= e.started_at.date() <= today:
            totals.add(e)
    return {"period_start": start, "period_end": today, **totals.common()}


def expected_daily(
    raw: list[RawExecution], user_id: uuid.UUID, date_from: date, date_to: date
) -> list[dict[str, Any]]:
    per_day: dict[date, Totals] = defaultdict(Totals)
    for e in raw:
        if e.user_id == user_id:
            per_day[e.started_at.date()].add(e)
    out = []
    day = date_from
    while day <= date_to:
        out.append({"day": day, **per_day[day].with_min_max()})
        day += timedelta(days=1)
    return out


def expected_agents(
    raw: list[RawExecution], names: dict[uuid.UUID, str], user_id: uuid.UUID, days: int, today: date
) -> list[dict[str, Any]]:
    start = today - timedelta(days=days)
    per_agent: dict[uuid.UUID, Totals] = defaultdict(Totals)
    for e in raw:
        if e.user_id == user_id and start <= e.started_at.date() <= today:
            per_agent[e.agent_id].add(e)
    rows = [
        {
            "agent_id": agent_id,
            "agent_name": names[agent_id],
            **t.with_min_max(),
            "last_run_day": t.last_day,
        }
        for agent_id, t in per_agent.items()
    ]
    rows.sort(key=lambda r: (-r["total"], str(r["agent_id"])))
    return rows


def normalize(row: Any) -> dict[str, Any]:
    """A dataclass row as a dict, numbers compared by value (Decimal scale ignored)."""
    data = dict(vars(row))
    for key, value in data.items():
        if isinstance(value, Decimal):
            data[key] = value.normalize() if value != 0 else Decimal(0)
    return data


def normalized(expected: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.normalize() if v != 0 else Decimal(0)) if isinstance(v, Decimal) else v
        for k, v in expected.items()
    }


def fold_stats(conn: psycopg.Connection[Any]) -> None:
    """Move every pending stats delta into the rollup tables (an autocommit connection)."""
    conn.execute("CALL agentdb.fold_execution_stats()")
