"""Typed wrappers over agentdb's maintenance routines, and pg_cron (un)scheduling.

Every wrapper runs one routine in its own transaction (or, for the procedure,
its own autocommit connection) and returns frozen dataclasses. A role lacking
the privilege gets `PermissionDenied` naming the role to grant
(`agentdb_admin`); bad input rejected by the database (SQLSTATE 22023)
becomes `ConfigurationError`; a maintenance run that fails (and was recorded
as failed) raises `MaintenanceError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from pyglue import install
from pyglue.errors import ConfigurationError, PermissionDenied, PyglueError
from pyglue.install import ScheduledJob

ADMIN_ROLE = "agentdb_admin"
MEMORY_JOB = "agentdb-memory-maintenance"
DEFAULT_BATCH_SIZE = 5000

RunStatus = Literal["running", "succeeded", "failed", "skipped"]


class MaintenanceError(PyglueError):
    """A maintenance routine failed in the database; a run's failure is also in maintenance_runs."""

    def __init__(self, message: str, *, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


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


@dataclass(frozen=True)
class CleanupPreview:
    """What one enabled policy would delete now (agentdb.preview_memory_cleanup)."""

    policy_name: str
    memory_type: str
    importance: str | None
    age_basis: str
    max_age: timedelta
    cutoff: datetime
    rows: int
    approx_bytes: int


@dataclass(frozen=True)
class PolicyCleanup:
    """What cleanup_expired_memories did for one policy; complete: its last batch came short."""

    policy_name: str
    rows_deleted: int
    batches: int
    complete: bool


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _message(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)


def _translate(exc: DBAPIError, routine: str) -> PyglueError | None:
    """The pyglue error for a database error, or None to let it propagate as is."""
    state = _sqlstate(exc)
    if state == "42501":
        return PermissionDenied(f"{routine}: {_message(exc)}", role_needed=ADMIN_ROLE)
    if state == "22023":
        return ConfigurationError(f"{routine}: {_message(exc)}")
    return None


@contextmanager
def _translated(routine: str) -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        error = _translate(exc, routine)
        if error is None:
            raise
        raise error from exc


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


def get_run(connection: Connection, run_id: int) -> MaintenanceRun:
    """One maintenance_runs row by id."""
    row = connection.execute(
        text(f"SELECT {_RUN_COLUMNS} FROM agentdb.maintenance_runs WHERE id = :id"), {"id": run_id}
    ).one()
    return _run_from_row(row)


def run_memory_maintenance(
    engine: Engine, *, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False
) -> MaintenanceRun | None:
    """CALL agentdb.run_memory_maintenance (autocommit); its run row, or None on a standby.

    A concurrent run makes this one 'skipped' (returned, not raised). A failure
    is recorded as 'failed' by the procedure and raised as MaintenanceError;
    the connection is then discarded, not returned to the pool.
    """
    routine = "agentdb.run_memory_maintenance"
    with engine.connect() as connection:
        # the procedure COMMITs between batches: it cannot run inside a transaction block
        connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            run_id = connection.execute(
                text("CALL agentdb.run_memory_maintenance(:batch_size, :dry_run, NULL)"),
                {"batch_size": batch_size, "dry_run": dry_run},
            ).scalar_one()
        except DBAPIError as exc:
            connection.invalidate()
            error = _translate(exc, routine)
            if error is None:
                error = MaintenanceError(f"{routine}: {_message(exc)}", sqlstate=_sqlstate(exc))
            raise error from exc
        if run_id is None:
            return None
        return get_run(connection, int(run_id))


def preview_memory_cleanup(engine: Engine) -> list[CleanupPreview]:
    """What each enabled memory policy would delete now; changes nothing."""
    with _translated("agentdb.preview_memory_cleanup"), engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT policy_name, memory_type, importance, age_basis, max_age, cutoff,"
                " rows_to_delete, approx_bytes FROM agentdb.preview_memory_cleanup()"
            )
        ).all()
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
        )
        for row in rows
    ]


def preview_memory_consolidation(engine: Engine, agent_id: uuid.UUID | None = None) -> int:
    """How many memories consolidate_memories would promote now."""
    with _translated("agentdb.preview_memory_consolidation"), engine.connect() as connection:
        count = connection.execute(
            text("SELECT agentdb.preview_memory_consolidation(:agent_id)"), {"agent_id": agent_id}
        ).scalar_one()
    return int(count)


def consolidate_memories(engine: Engine, agent_id: uuid.UUID | None = None) -> int:
    """Promote frequently recalled short-term memories (one agent, or all); the number promoted."""
    with _translated("agentdb.consolidate_memories"), engine.begin() as connection:
        count = connection.execute(
            text("SELECT agentdb.consolidate_memories(:agent_id)"), {"agent_id": agent_id}
        ).scalar_one()
    return int(count)


def cleanup_expired_memories(
    engine: Engine, *, batch_size: int = DEFAULT_BATCH_SIZE, max_batches: int | None = None
) -> list[PolicyCleanup]:
    """Delete expired memories in ONE transaction (for a large backlog: run_memory_maintenance)."""
    with _translated("agentdb.cleanup_expired_memories"), engine.begin() as connection:
        rows = connection.execute(
            text(
                "SELECT policy_name, rows_deleted, batches, complete"
                " FROM agentdb.cleanup_expired_memories(:batch_size, :max_batches)"
            ),
            {"batch_size": batch_size, "max_batches": max_batches},
        ).all()
    return [
        PolicyCleanup(row.policy_name, int(row.rows_deleted), int(row.batches), bool(row.complete))
        for row in rows
    ]


def last_runs(
    engine: Engine, limit: int = 20, *, job_name: str | None = None
) -> list[MaintenanceRun]:
    """The newest maintenance runs (of one job, or of all), newest first."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigurationError(f"limit must be a positive integer, not {limit!r}")
    with _translated("agentdb.maintenance_runs"), engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT {_RUN_COLUMNS} FROM agentdb.maintenance_runs"
                " WHERE CAST(:job_name AS text) IS NULL OR job_name = :job_name"
                " ORDER BY started_at DESC, id DESC LIMIT :limit"
            ),
            {"job_name": job_name, "limit": limit},
        ).all()
    return [_run_from_row(row) for row in rows]


def schedule(engine: Engine) -> list[ScheduledJob]:
    """Create or update every agentdb job in pg_cron; [] when pg_cron is not installed here."""
    with _translated("agentdb.schedule_maintenance"):
        return install.schedule_maintenance(engine)


def unschedule(engine: Engine) -> list[str]:
    """Remove agentdb's jobs from pg_cron; the names removed ([] without pg_cron)."""
    with _translated("agentdb.unschedule_maintenance"), engine.begin() as connection:
        names = connection.execute(text("SELECT agentdb.unschedule_maintenance()")).scalars().all()
    return [str(name) for name in names]
