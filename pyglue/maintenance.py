"""Typed wrappers over agentdb's maintenance routines, and pg_cron (un)scheduling.

Each wrapper takes an Engine (its own transaction, committed) or a Connection
or Session (the caller's transaction), except `run_memory_maintenance`: the
procedure COMMITs between batches, so it needs an Engine to take an autocommit
connection from. Results are frozen dataclasses. Errors come from
`pyglue.routines`: a role lacking the privilege gets `PermissionDenied` naming
`agentdb_admin`; a bad argument `InvalidArgument` naming it; a run that fails
(and was recorded as failed) a `DatabaseError` (alias `MaintenanceError`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Engine

from pyglue import arguments, scheduling
from pyglue.errors import DatabaseError
from pyglue.routines import ADMIN_ROLE, SyncBind, call, call_procedure
from pyglue.scheduling import ScheduledJob

MEMORY_JOB = "agentdb-memory-maintenance"
DEFAULT_BATCH_SIZE = 5000

# Kept for callers that catch it: every failure in the database is a DatabaseError.
MaintenanceError = DatabaseError

RunStatus = Literal["running", "succeeded", "failed", "skipped"]


@dataclass(frozen=True)
class PolicyCount:
    """Rows one memory policy deleted (or would delete)."""

    policy_name: str
    rows: int


@dataclass(frozen=True)
class MaintenanceRun:
    """One row of agentdb.maintenance_runs; the properties read the memory job's counts."""

    id: int
    job_name: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    counts: Mapping[str, Any] = field(hash=False)
    error: str | None

    @property
    def dry_run(self) -> bool:
        return bool(self.counts.get("dry_run", False))

    @property
    def consolidated(self) -> int:
        return int(self.counts.get("consolidated", 0))

    @property
    def batches(self) -> int:
        return int(self.counts.get("batches", 0))

    @property
    def abandoned_runs(self) -> int:
        return int(self.counts.get("abandoned_runs", 0))

    @property
    def deleted(self) -> tuple[PolicyCount, ...]:
        """Rows deleted per policy, by name (for a dry run: what each would delete)."""
        per_policy = cast(Mapping[str, int], self.counts.get("deleted", {}))
        return tuple(PolicyCount(name, int(rows)) for name, rows in sorted(per_policy.items()))

    @property
    def rows_deleted(self) -> int:
        return sum(count.rows for count in self.deleted)

    @property
    def policy_errors(self) -> Mapping[str, str]:
        """The error of each policy that failed, by name (the others still ran)."""
        return dict(cast(Mapping[str, str], self.counts.get("policy_errors", {})))


@dataclass(frozen=True)
class CleanupPreview:
    """What one enabled policy would delete now (agentdb.preview_memory_cleanup).

    A policy that failed has its `error`, no `cutoff` and zero rows.
    """

    policy_name: str
    memory_type: str
    importance: str | None
    age_basis: str
    max_age: timedelta
    cutoff: datetime | None
    rows: int
    approx_bytes: int
    error: str | None = None


@dataclass(frozen=True)
class PolicyCleanup:
    """What cleanup_expired_memories did for one policy; complete: its last batch came short.

    A policy that failed was rolled back alone: its `error`, and zero rows.
    """

    policy_name: str
    rows_deleted: int
    batches: int
    complete: bool
    error: str | None = None


def _run_from_row(row: Any) -> MaintenanceRun:
    return MaintenanceRun(
        id=int(row.id),
        job_name=row.job_name,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        counts=dict(row.counts),
        error=row.error,
    )


_RUN_COLUMNS = "id, job_name, started_at, finished_at, status, counts, error"


def get_run(bind: SyncBind, run_id: int) -> MaintenanceRun:
    """One maintenance_runs row by id."""
    rows = call(
        bind,
        f"SELECT {_RUN_COLUMNS} FROM agentdb.maintenance_runs WHERE id = :id",
        {"id": arguments.integer("run_id", run_id, minimum=1, maximum=arguments.INT8_MAX)},
        routine="agentdb.maintenance_runs",
        role=ADMIN_ROLE,
    )
    if not rows:
        raise arguments.refuse("run_id", "the id of a row of agentdb.maintenance_runs", run_id)
    return _run_from_row(rows[0])


def run_memory_maintenance(
    engine: Engine, *, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False
) -> MaintenanceRun | None:
    """CALL agentdb.run_memory_maintenance (autocommit); its run row, or None on a standby.

    A concurrent run makes this one 'skipped' (returned, not raised). A failure
    is recorded as 'failed' by the procedure and raised as a DatabaseError;
    the connection is then discarded, not returned to the pool.
    """
    rows = call_procedure(
        engine,
        "CALL agentdb.run_memory_maintenance(:batch_size, :dry_run, NULL)",
        {
            "batch_size": arguments.integer("batch_size", batch_size),
            "dry_run": arguments.flag("dry_run", dry_run),
        },
        routine="agentdb.run_memory_maintenance",
        role=ADMIN_ROLE,
    )
    run_id = rows[0][0] if rows else None
    return None if run_id is None else get_run(engine, int(run_id))


def preview_memory_cleanup(bind: SyncBind) -> list[CleanupPreview]:
    """What each enabled memory policy would delete now; changes nothing."""
    rows = call(
        bind,
        "SELECT policy_name, memory_type, importance, age_basis, max_age, cutoff,"
        " rows_to_delete, approx_bytes, error FROM agentdb.preview_memory_cleanup()",
        routine="agentdb.preview_memory_cleanup",
        role=ADMIN_ROLE,
    )
    return [
        CleanupPreview(
            policy_name=row.policy_name,
            memory_type=row.memory_type,
            importance=row.importance,
            age_basis=row.age_basis,
            max_age=row.max_age,
            cutoff=row.cutoff,
            rows=int(row.rows_to_delete),
            approx_bytes=int(row.approx_bytes),
            error=row.error,
        )
        for row in rows
    ]


def preview_memory_consolidation(bind: SyncBind, agent_id: uuid.UUID | None = None) -> int:
    """How many memories consolidate_memories would promote now."""
    rows = call(
        bind,
        "SELECT agentdb.preview_memory_consolidation(:agent_id)",
        {"agent_id": arguments.optional_identifier("agent_id", agent_id)},
        routine="agentdb.preview_memory_consolidation",
        role=ADMIN_ROLE,
    )
    return int(rows[0][0])


def consolidate_memories(bind: SyncBind, agent_id: uuid.UUID | None = None) -> int:
    """Promote frequently recalled short-term memories (one agent, or all); the number promoted."""
    rows = call(
        bind,
        "SELECT agentdb.consolidate_memories(:agent_id)",
        {"agent_id": arguments.optional_identifier("agent_id", agent_id)},
        routine="agentdb.consolidate_memories",
        role=ADMIN_ROLE,
        commit=True,
    )
    return int(rows[0][0])


def cleanup_expired_memories(
    bind: SyncBind, *, batch_size: int = DEFAULT_BATCH_SIZE, max_batches: int | None = None
) -> list[PolicyCleanup]:
    """Delete expired memories in ONE transaction (for a large backlog: run_memory_maintenance)."""
    rows = call(
        bind,
        "SELECT policy_name, rows_deleted, batches, complete, error"
        " FROM agentdb.cleanup_expired_memories(:batch_size, :max_batches)",
        {
            "batch_size": arguments.integer("batch_size", batch_size),
            "max_batches": arguments.optional_integer("max_batches", max_batches),
        },
        routine="agentdb.cleanup_expired_memories",
        role=ADMIN_ROLE,
        commit=True,
    )
    return [
        PolicyCleanup(
            row.policy_name,
            int(row.rows_deleted),
            int(row.batches),
            bool(row.complete),
            row.error,
        )
        for row in rows
    ]


def last_runs(
    bind: SyncBind, limit: int = 20, *, job_name: str | None = None
) -> list[MaintenanceRun]:
    """The newest maintenance runs (of one job, or of all), newest first."""
    rows = call(
        bind,
        f"SELECT {_RUN_COLUMNS} FROM agentdb.maintenance_runs"
        " WHERE CAST(:job_name AS text) IS NULL OR job_name = :job_name"
        " ORDER BY started_at DESC, id DESC LIMIT :limit",
        {
            "job_name": arguments.optional_text("job_name", job_name),
            "limit": arguments.integer("limit", limit, minimum=1),
        },
        routine="agentdb.maintenance_runs",
        role=ADMIN_ROLE,
    )
    return [_run_from_row(row) for row in rows]


def schedule(bind: SyncBind) -> list[ScheduledJob]:
    """Create or update every agentdb job in pg_cron; [] when pg_cron is not installed here."""
    return scheduling.schedule_maintenance(bind)


def unschedule(bind: SyncBind) -> list[str]:
    """Remove agentdb's jobs from pg_cron; the names removed ([] without pg_cron)."""
    return scheduling.unschedule_maintenance(bind)
