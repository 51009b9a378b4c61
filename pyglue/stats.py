"""Typed wrappers over the execution-stats functions: dashboard reads, the fold, repair, the check.

Every figure comes from the rollup tables plus the user's pending deltas
(what the stats triggers append until a fold moves them): exact at the
reader's snapshot. No wrapper aggregates agent_executions.
Every wrapper takes an Engine (its own transaction), a Connection or a Session
(the caller's). A bad argument raises InvalidArgument naming the parameter:
its type here, its range in the routine (SQLSTATE 22023, the server's message).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from pyglue import arguments
from pyglue.routines import ADMIN_ROLE, APP_ROLE, SyncBind, call, call_procedure

__all__ = [
    "ADMIN_ROLE",
    "APP_ROLE",
    "CHECK_JOB_NAME",
    "DEFAULT_FOLD_BATCH_SIZE",
    "FOLD_JOB_NAME",
    "AgentStatsSummary",
    "DailyStats",
    "StatsCheck",
    "StatsDifference",
    "StatsFold",
    "StatsRefresh",
    "UserDashboard",
    "WorkflowDailyStats",
    "agent_stats_summary",
    "check_execution_stats",
    "fold_execution_stats",
    "refresh_execution_stats",
    "user_daily_stats",
    "user_dashboard",
    "verify_execution_stats",
    "workflow_daily_stats",
]

CHECK_JOB_NAME = "agentdb-execution-stats-check"
FOLD_JOB_NAME = "agentdb-execution-stats-fold"
DEFAULT_FOLD_BATCH_SIZE = 50_000


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
class WorkflowDailyStats:
    """One workflow's runs started on one UTC day."""

    day: date
    workflow_id: uuid.UUID
    execution_count: int
    success_count: int
    failed_count: int
    cancelled_count: int
    duration_count: int
    total_duration_ms: int
    min_duration_ms: int | None
    max_duration_ms: int | None


@dataclass(frozen=True)
class StatsFold:
    """One run of the fold (a row of agentdb.maintenance_runs)."""

    run_id: int
    status: str
    deltas_folded: int
    batches: int
    error: str | None


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


def user_dashboard(bind: SyncBind, user_id: uuid.UUID, days: int = 30) -> UserDashboard:
    """A user's dashboard over the UTC days today-days..today (agentdb.user_dashboard)."""
    rows = call(
        bind,
        "SELECT * FROM agentdb.user_dashboard(:user_id, :days)",
        {
            "user_id": arguments.identifier("user_id", user_id),
            "days": arguments.integer("days", days),
        },
        routine="agentdb.user_dashboard",
        role=APP_ROLE,
    )
    return UserDashboard(**rows[0]._mapping)


def user_daily_stats(
    bind: SyncBind, user_id: uuid.UUID, date_from: date, date_to: date
) -> list[DailyStats]:
    """One row per UTC day date_from..date_to, days without runs included."""
    rows = call(
        bind,
        "SELECT * FROM agentdb.user_daily_stats(:user_id, :date_from, :date_to)",
        {
            "user_id": arguments.identifier("user_id", user_id),
            "date_from": arguments.day("date_from", date_from),
            "date_to": arguments.day("date_to", date_to),
        },
        routine="agentdb.user_daily_stats",
        role=APP_ROLE,
    )
    return [DailyStats(**row._mapping) for row in rows]


def agent_stats_summary(
    bind: SyncBind, user_id: uuid.UUID, days: int = 30
) -> list[AgentStatsSummary]:
    """One row per agent of the user that ran over the period, most active first."""
    rows = call(
        bind,
        "SELECT * FROM agentdb.agent_stats_summary(:user_id, :days)",
        {
            "user_id": arguments.identifier("user_id", user_id),
            "days": arguments.integer("days", days),
        },
        routine="agentdb.agent_stats_summary",
        role=APP_ROLE,
    )
    return [AgentStatsSummary(**row._mapping) for row in rows]


def workflow_daily_stats(
    bind: SyncBind, user_id: uuid.UUID, date_from: date, date_to: date
) -> list[WorkflowDailyStats]:
    """Per workflow and UTC day date_from..date_to, a user's workflow runs (days with runs)."""
    rows = call(
        bind,
        "SELECT day, workflow_id, execution_count, success_count, failed_count, cancelled_count,"
        " duration_count, total_duration_ms, min_duration_ms, max_duration_ms"
        " FROM agentdb.workflow_stats_now(:user_id, :date_from, :date_to)"
        " ORDER BY day, workflow_id",
        {
            "user_id": arguments.identifier("user_id", user_id),
            "date_from": arguments.day("date_from", date_from),
            "date_to": arguments.day("date_to", date_to),
        },
        routine="agentdb.workflow_stats_now",
        role=APP_ROLE,
    )
    return [WorkflowDailyStats(**row._mapping) for row in rows]


def fold_execution_stats(
    engine: Engine, batch_size: int = DEFAULT_FOLD_BATCH_SIZE
) -> StatsFold | None:
    """Move every pending stats delta into the rollups now (what pg_cron does every minute).

    Returns the run's row; None on a standby (nothing to do there). A concurrent
    fold makes this one 'skipped' (returned, not raised).
    """
    rows = call_procedure(
        engine,
        "CALL agentdb.fold_execution_stats(:batch_size, NULL)",
        {"batch_size": arguments.integer("batch_size", batch_size, minimum=1)},
        routine="agentdb.fold_execution_stats",
        role=ADMIN_ROLE,
    )
    run_id = rows[0][0] if rows else None
    if run_id is None:
        return None
    run = call(
        engine,
        "SELECT id AS run_id, status, coalesce((counts ->> 'deltas_folded')::bigint, 0)"
        " AS deltas_folded, coalesce((counts ->> 'batches')::integer, 0) AS batches, error"
        " FROM agentdb.maintenance_runs WHERE id = :run_id",
        {"run_id": run_id},
        routine="agentdb.maintenance_runs",
        role=ADMIN_ROLE,
    )
    return StatsFold(**run[0]._mapping)


def refresh_execution_stats(bind: SyncBind, date_from: date, date_to: date) -> list[StatsRefresh]:
    """Rebuild the rollups of the UTC days date_from..date_to from the surviving raw rows."""
    rows = call(
        bind,
        "SELECT * FROM agentdb.refresh_execution_stats(:date_from, :date_to)",
        {
            "date_from": arguments.day("date_from", date_from),
            "date_to": arguments.day("date_to", date_to),
        },
        routine="agentdb.refresh_execution_stats",
        role=ADMIN_ROLE,
        commit=True,
    )
    return [StatsRefresh(**row._mapping) for row in rows]


def verify_execution_stats(bind: SyncBind, date_from: date, date_to: date) -> list[StatsDifference]:
    """Rollup rows of the days date_from..date_to that differ from the raw rows (empty: exact)."""
    rows = call(
        bind,
        "SELECT * FROM agentdb.verify_execution_stats(:date_from, :date_to)",
        {
            "date_from": arguments.day("date_from", date_from),
            "date_to": arguments.day("date_to", date_to),
        },
        routine="agentdb.verify_execution_stats",
        role=ADMIN_ROLE,
    )
    return [StatsDifference(**row._mapping) for row in rows]


def check_execution_stats(bind: SyncBind, day: date | None = None) -> StatsCheck:
    """The nightly check: verify one UTC day (default yesterday) and repair drift, logged."""
    sql = "SELECT * FROM agentdb.check_execution_stats()"
    params: dict[str, Any] = {}
    if day is not None:
        sql = "SELECT * FROM agentdb.check_execution_stats(:day)"
        params["day"] = arguments.day("day", day)
    rows = call(
        bind, sql, params, routine="agentdb.check_execution_stats", role=ADMIN_ROLE, commit=True
    )
    return StatsCheck(**rows[0]._mapping)
