"""Typed wrappers over agentdb.perf_stats() and agentdb.table_health()."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pyglue.monitoring.stats import check_limit
from pyglue.routines import ADMIN_ROLE, APP_ROLE, SyncBind, call


@dataclass(frozen=True)
class StatementStat:
    """One row of agentdb.perf_stats(): a statement of this database, from pg_stat_statements."""

    queryid: int
    role_name: str
    calls: int
    total_exec_ms: float
    mean_exec_ms: float
    max_exec_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int
    hit_percent: Decimal | None
    query: str


@dataclass(frozen=True)
class RelationHealth:
    """One row of agentdb.table_health(): a table (kind 'table') or one of its indexes."""

    kind: str
    schema_name: str
    table_name: str
    index_name: str | None
    live_rows: int | None
    dead_rows: int | None
    dead_percent: Decimal | None
    total_bytes: int
    seq_scans: int | None
    index_scans: int | None
    last_vacuum: datetime | None
    last_analyze: datetime | None
    is_unique: bool | None
    unused: bool | None


def perf_stats(bind: SyncBind, limit: int = 20) -> list[StatementStat]:
    """agentdb.perf_stats(limit): [] when pg_stat_statements is missing (the server says why)."""
    rows = call(
        bind,
        "SELECT * FROM agentdb.perf_stats(:limit)",
        {"limit": check_limit(limit)},
        routine="agentdb.perf_stats",
        role=ADMIN_ROLE,
    )
    return [StatementStat(*row) for row in rows]


def table_health(bind: SyncBind) -> list[RelationHealth]:
    """agentdb.table_health(): every user table followed by its indexes."""
    rows = call(
        bind, "SELECT * FROM agentdb.table_health()", routine="agentdb.table_health", role=APP_ROLE
    )
    return [RelationHealth(*row) for row in rows]
