"""Typed wrappers over agentdb.perf_stats() and agentdb.table_health()."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pyglue.errors import PermissionDenied
from pyglue.monitoring._engines import sync_engine
from pyglue.monitoring.stats import check_limit


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


def _permission(exc: DBAPIError, routine: str, role: str) -> None:
    if getattr(exc.orig, "sqlstate", None) == "42501":
        raise PermissionDenied(f"cannot run {routine}", role_needed=role) from exc


def perf_stats(engine: Any, limit: int = 20) -> list[StatementStat]:
    """agentdb.perf_stats(limit): [] when pg_stat_statements is missing (the server says why)."""
    check_limit(limit)
    try:
        with sync_engine(engine).connect() as conn:
            rows = conn.execute(text("SELECT * FROM agentdb.perf_stats(:limit)"), {"limit": limit})
            return [StatementStat(*row) for row in rows]
    except DBAPIError as exc:
        _permission(exc, "agentdb.perf_stats()", "agentdb_admin")
        raise


def table_health(engine: Any) -> list[RelationHealth]:
    """agentdb.table_health(): every user table followed by its indexes."""
    try:
        with sync_engine(engine).connect() as conn:
            rows = conn.execute(text("SELECT * FROM agentdb.table_health()"))
            return [RelationHealth(*row) for row in rows]
    except DBAPIError as exc:
        _permission(exc, "agentdb.table_health()", "agentdb_app")
        raise
