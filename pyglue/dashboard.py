"""Typed wrappers over the execution-stats functions: dashboard reads, repair and the nightly check.

Every figure comes from the rollup tables that triggers keep exact (see
sql/schema/execution_stats.sql); no wrapper aggregates agent_executions.
Bad arguments are refused by the database (SQLSTATE 22023) and raised here as
ConfigurationError with its message, which names the parameter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from pyglue.errors import ConfigurationError, PermissionDenied

APP_ROLE = "agentdb_app"
ADMIN_ROLE = "agentdb_admin"
CHECK_JOB_NAME = "agentdb-execution-stats-check"


@dataclass(frozen=True)
class UserDashboard:
    """A user's totals over the UTC days period_start..period_end (today)."""

    period_start: date
    period_end: date
    total: int
    succeeded: int
    failed: int
    cancelled: int
    success_rate: Decimal | None
    avg_duration_ms: int | None
    total_tokens: int
    total_llm_calls: int
    total_cost: Decimal


@dataclass(frozen=True)
class DailyStats:
    """One UTC day of a user's agent executions (zeros on a day without runs)."""

    day: date
    total: int
    succeeded: int
    failed: int
    cancelled: int
    success_rate: Decimal | None
    avg_duration_ms: int | None
    min_duration_ms: int | None
    max_duration_ms: int | None
    total_tokens: int
    total_llm_calls: int
    total_cost: Decimal


@dataclass(frozen=True)
class AgentStatsSummary:
    """One agent's totals over the dashboard period."""

    agent_id: uuid.UUID
    agent_name: str
    total: int
    succeeded: int
    failed: int
    cancelled: int
    success_rate: Decimal | None
    avg_duration_ms: int | None
    min_duration_ms: int | None
    max_duration_ms: int | None
    total_tokens: int
    total_llm_calls: int
    total_cost: Decimal
    last_run_day: date | None


@dataclass(frozen=True)
class StatsRefresh:
    """What agentdb.refresh_execution_stats changed in one rollup table."""

    stats_table: str
    rows_deleted: int
    rows_written: int


@dataclass(frozen=True)
class StatsDifference:
    """A rollup row that differs from aggregating the raw rows."""

    stats_table: str
    user_id: uuid.UUID
    subject_id: uuid.UUID | None
    day: date
    stored: Mapping[str, Any]
    expected: Mapping[str, Any]


@dataclass(frozen=True)
class StatsCheck:
    """One run of the nightly check (also logged in agentdb.maintenance_runs)."""

    run_id: int
    status: str
    day: date
    rows_checked: int
    rows_differing: int
    rows_repaired: int


Bind = Engine | Connection


@contextmanager
def _connection(bind: Bind, *, commit: bool) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as connection:
        yield connection
        if commit:
            connection.commit()


def _call(
    bind: Bind, sql: str, params: Mapping[str, Any], *, role: str, commit: bool = False
) -> Sequence[Any]:
    """Run one agentdb function; turn its refusals into pyglue errors."""
    try:
        with _connection(bind, commit=commit) as connection:
            return connection.execute(text(sql), dict(params)).all()
    except DBAPIError as exc:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if sqlstate == "22023":
            raise ConfigurationError(message) from exc
        if sqlstate == "42501":
            raise PermissionDenied(message, role_needed=role) from exc
        raise


def user_dashboard(bind: Bind, user_id: uuid.UUID, days: int = 30) -> UserDashboard:
    """A user's dashboard over the UTC days today-days..today (agentdb.user_dashboard)."""
    rows = _call(
        bind,
        "SELECT * FROM agentdb.user_dashboard(:user_id, :days)",
        {"user_id": user_id, "days": days},
        role=APP_ROLE,
    )
    return UserDashboard(**rows[0]._mapping)


def user_daily_stats(
    bind: Bind, user_id: uuid.UUID, date_from: date, date_to: date
) -> list[DailyStats]:
    """One row per UTC day date_from..date_to, days without runs included."""
    rows = _call(
        bind,
        "SELECT * FROM agentdb.user_daily_stats(:user_id, :date_from, :date_to)",
        {"user_id": user_id, "date_from": date_from, "date_to": date_to},
        role=APP_ROLE,
    )
    return [DailyStats(**row._mapping) for row in rows]


def agent_stats_summary(bind: Bind, user_id: uuid.UUID, days: int = 30) -> list[AgentStatsSummary]:
    """One row per agent of the user that ran over the period, most active first."""
    rows = _call(
        bind,
        "SELECT * FROM agentdb.agent_stats_summary(:user_id, :days)",
        {"user_id": user_id, "days": days},
        role=APP_ROLE,
    )
    return [AgentStatsSummary(**row._mapping) for row in rows]


def refresh_execution_stats(bind: Bind, date_from: date, date_to: date) -> list[StatsRefresh]:
    """Rebuild the rollups of the UTC days date_from..date_to from the surviving raw rows."""
    rows = _call(
        bind,
        "SELECT * FROM agentdb.refresh_execution_stats(:date_from, :date_to)",
        {"date_from": date_from, "date_to": date_to},
        role=ADMIN_ROLE,
        commit=True,
    )
    return [StatsRefresh(**row._mapping) for row in rows]


def verify_execution_stats(bind: Bind, date_from: date, date_to: date) -> list[StatsDifference]:
    """Rollup rows of the days date_from..date_to that differ from the raw rows (empty: exact)."""
    rows = _call(
        bind,
        "SELECT * FROM agentdb.verify_execution_stats(:date_from, :date_to)",
        {"date_from": date_from, "date_to": date_to},
        role=ADMIN_ROLE,
    )
    return [StatsDifference(**row._mapping) for row in rows]


def check_execution_stats(bind: Bind, day: date | None = None) -> StatsCheck:
    """The nightly check: verify one UTC day (default yesterday) and repair drift, logged."""
    if day is None:
        sql, params = "SELECT * FROM agentdb.check_execution_stats()", {}
    else:
        sql, params = "SELECT * FROM agentdb.check_execution_stats(:day)", {"day": day}
    rows = _call(bind, sql, params, role=ADMIN_ROLE, commit=True)
    return StatsCheck(**rows[0]._mapping)
