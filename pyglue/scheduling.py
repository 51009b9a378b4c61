"""agentdb's jobs in pg_cron: schedule (create or update) and unschedule them.

pg_cron is optional: without it in this database both return [] and
`pyglue maintain` runs the same jobs from any scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyglue.routines import ADMIN_ROLE, SyncBind, call


@dataclass(frozen=True)
class ScheduledJob:
    """One pg_cron job of agentdb, as agentdb.schedule_maintenance left it."""

    job_name: str
    schedule: str
    jobid: int


def schedule_maintenance(bind: SyncBind) -> list[ScheduledJob]:
    """Create or update every agentdb job in pg_cron; [] when pg_cron is not installed here."""
    rows = call(
        bind,
        "SELECT job_name, schedule, jobid FROM agentdb.schedule_maintenance()",
        routine="agentdb.schedule_maintenance",
        role=ADMIN_ROLE,
        commit=True,
    )
    return [ScheduledJob(str(row.job_name), str(row.schedule), int(row.jobid)) for row in rows]


def unschedule_maintenance(bind: SyncBind) -> list[str]:
    """Remove agentdb's jobs from pg_cron; the names removed ([] without pg_cron)."""
    rows = call(
        bind,
        "SELECT agentdb.unschedule_maintenance()",
        routine="agentdb.unschedule_maintenance",
        role=ADMIN_ROLE,
        commit=True,
    )
    return [str(name) for (name,) in rows]
