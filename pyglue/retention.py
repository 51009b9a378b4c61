"""Typed wrappers over agentdb's retention of time-partitioned history (issue 13).

`run_retention_maintenance` CALLs the procedure (it COMMITs once per month
dropped, so it takes an Engine for an autocommit connection) and returns its
row of agentdb.maintenance_runs; `preview_retention` says what it would drop.
Errors come from `pyglue.routines`, as for `pyglue.maintenance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine

from pyglue import arguments
from pyglue.maintenance import MaintenanceRun, get_run
from pyglue.routines import ADMIN_ROLE, SyncBind, call, call_procedure

RETENTION_JOB = "agentdb-retention-maintenance"
DEFAULT_LOCK_TIMEOUT = timedelta(milliseconds=500)


@dataclass(frozen=True)
class TableRetention:
    """Partitions of one table retention dropped (or, in a preview or dry run, would drop)."""

    table_name: str
    partitions: tuple[str, ...]
    rows: int
    bytes: int


@dataclass(frozen=True)
class RetentionPreview(TableRetention):
    """A row of agentdb.preview_retention(): keep and cutoff are None for a table
    that loses partitions only because it references an expiring one."""

    keep: timedelta | None = None
    cutoff: datetime | None = None


def dropped(run: MaintenanceRun) -> tuple[TableRetention, ...]:
    """Per table, what a retention run dropped (dry run: would drop), by table name."""
    per_table = cast(Mapping[str, Mapping[str, Any]], run.counts.get("dropped", {}))
    return tuple(
        TableRetention(
            name,
            tuple(str(p) for p in entry.get("partitions", [])),
            int(entry.get("rows", 0)),
            int(entry.get("bytes", 0)),
        )
        for name, entry in sorted(per_table.items())
    )


def created(run: MaintenanceRun) -> Mapping[str, int]:
    """Per table, the partitions upkeep created (dry run: would create)."""
    return {name: int(n) for name, n in run.counts.get("created", {}).items()}


def run_retention_maintenance(
    engine: Engine, *, dry_run: bool = False, lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT
) -> MaintenanceRun | None:
    """CALL agentdb.run_retention_maintenance (autocommit); its run row, or None on a standby.

    A concurrent run makes this one 'skipped' (returned, not raised). A failure
    (a lock_timeout included) is recorded as 'failed' and raised as a DatabaseError.
    """
    if not isinstance(lock_timeout, timedelta) or not (
        timedelta(0) < lock_timeout <= timedelta(minutes=1)
    ):
        raise arguments.refuse(
            "lock_timeout", "a timedelta above 0 and at most 1 minute", lock_timeout
        )
    rows = call_procedure(
        engine,
        "CALL agentdb.run_retention_maintenance(:dry_run, :lock_timeout, NULL)",
        {"dry_run": arguments.flag("dry_run", dry_run), "lock_timeout": lock_timeout},
        routine="agentdb.run_retention_maintenance",
        role=ADMIN_ROLE,
    )
    run_id = rows[0][0] if rows else None
    return None if run_id is None else get_run(engine, int(run_id))


def preview_retention(bind: SyncBind) -> list[RetentionPreview]:
    """What retention would drop now, per table; changes nothing."""
    rows = call(
        bind,
        "SELECT n.nspname || '.' || c.relname AS table_name, pv.keep, pv.cutoff, pv.partitions,"
        " pv.rows_to_drop, pv.bytes_to_drop FROM agentdb.preview_retention() pv"
        " JOIN pg_catalog.pg_class c ON c.oid = pv.table_name"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
        routine="agentdb.preview_retention",
        role=ADMIN_ROLE,
    )
    return [
        RetentionPreview(
            table_name=row.table_name,
            partitions=tuple(row.partitions),
            rows=int(row.rows_to_drop),
            bytes=int(row.bytes_to_drop),
            keep=row.keep,
            cutoff=row.cutoff,
        )
        for row in rows
    ]
