"""The monitoring block of `pyglue status`: last runs, pg_cron jobs, top statements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from pyglue.monitoring.statement_shapes import normalize, truncate


@dataclass(frozen=True)
class RunLine:
    job_name: str
    status: str
    started_at: datetime
    seconds: float | None
    error: str | None


@dataclass(frozen=True)
class CronLine:
    jobname: str
    schedule: str
    active: bool
    last_status: str | None
    last_start: datetime | None


@dataclass(frozen=True)
class TopLine:
    calls: int
    total_ms: float
    mean_ms: float
    query: str


@dataclass(frozen=True)
class MonitoringStatus:
    """What the status block shows; a `*_note` explains an empty or missing part."""

    runs: list[RunLine]
    runs_note: str | None
    cron_jobs: list[CronLine]
    cron_note: str | None
    top: list[TopLine]
    top_note: str | None


def _attempt(conn: Connection, read: Callable[[Connection], Any]) -> tuple[Any, str | None]:
    """Run one read in a savepoint: a missing schema or privilege costs only that part."""
    try:
        with conn.begin_nested():
            return read(conn), None
    except DBAPIError as exc:
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return [], message


def _runs(conn: Connection) -> list[RunLine]:
    rows = conn.execute(
        text(
            "SELECT job_name, status, started_at,"
            " extract(epoch FROM finished_at - started_at)::float8, error"
            " FROM agentdb.maintenance_runs ORDER BY started_at DESC, id DESC LIMIT 10"
        )
    )
    return [RunLine(*row) for row in rows]


def _cron(conn: Connection) -> list[CronLine]:
    rows = conn.execute(
        text(
            "SELECT j.jobname, j.schedule, j.active, d.status, d.start_time"
            " FROM cron.job j LEFT JOIN LATERAL ("
            "   SELECT r.status, r.start_time FROM cron.job_run_details r"
            "   WHERE r.jobid = j.jobid ORDER BY r.start_time DESC NULLS LAST LIMIT 1) d ON true"
            " WHERE j.database = current_database() ORDER BY j.jobname"
        )
    )
    return [CronLine(*row) for row in rows]


def _top(conn: Connection) -> list[TopLine]:
    rows = conn.execute(
        text("SELECT calls, total_exec_ms, mean_exec_ms, query FROM agentdb.perf_stats(5)")
    )
    return [TopLine(int(c), float(t), float(m), q) for c, t, m, q in rows]


def monitoring_status(engine: Engine) -> MonitoringStatus:
    """Read the three parts, each on its own (one failing does not hide the others)."""
    with engine.connect() as conn:
        has_agentdb = conn.execute(
            text("SELECT to_regclass('agentdb.maintenance_runs') IS NOT NULL")
        ).scalar_one()
        has_cron = conn.execute(
            text("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron')")
        ).scalar_one()
        has_perf = conn.execute(
            text("SELECT to_regprocedure('agentdb.perf_stats(integer)') IS NOT NULL")
        ).scalar_one()
        runs, runs_note = _attempt(conn, _runs) if has_agentdb else ([], "agentdb is not installed")
        cron_jobs, cron_note = (
            _attempt(conn, _cron) if has_cron else ([], "pg_cron is not installed in this database")
        )
        top, top_note = (
            _attempt(conn, _top) if has_perf else ([], "agentdb.perf_stats() is not installed")
        )
        if has_perf and not top and top_note is None:
            top_note = "no statements (is pg_stat_statements installed in this database?)"
        conn.rollback()
    return MonitoringStatus(runs, runs_note, cron_jobs, cron_note, top, top_note)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S%z") if moment else "never"


def format_monitoring_status(state: MonitoringStatus) -> list[str]:
    """The block's lines, as `pyglue status` prints them."""
    lines = ["last maintenance runs:"]
    if state.runs_note or not state.runs:
        lines.append(f"  ({state.runs_note or 'none yet'})")
    for run in state.runs:
        took = f"{run.seconds:.1f}s" if run.seconds is not None else "running"
        error = f"  {truncate(run.error, 80)}" if run.error else ""
        lines.append(f"  {_when(run.started_at)}  {run.job_name:<32} {run.status:<9} {took}{error}")
    lines.append("pg_cron jobs:")
    if state.cron_note or not state.cron_jobs:
        lines.append(f"  ({state.cron_note or 'none scheduled'})")
    for job in state.cron_jobs:
        active = "active" if job.active else "inactive"
        last = "not run yet"
        if job.last_status:
            last = f"last {job.last_status} {_when(job.last_start)}"
        lines.append(f"  {job.jobname:<32} {job.schedule:<14} {active:<8} {last}")
    lines.append("top statements (pg_stat_statements, by total time):")
    if state.top_note or not state.top:
        lines.append(f"  ({state.top_note or 'none'})")
    for top in state.top:
        query = truncate(normalize(top.query), 70)
        lines.append(
            f"  {top.calls:>9,} calls {top.total_ms:>11,.1f} ms "
            f"{top.mean_ms:>9.2f} ms/call  {query}"
        )
    return lines
