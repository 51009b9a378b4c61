"""`pyglue status`: server, revision, extensions, tables, maintenance runs, jobs, top statements.

The activity parts (maintenance runs, pg_cron jobs, top statements) are read
each in its own savepoint: one that is missing or not permitted becomes a note
and does not hide the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import psycopg
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from pyglue import install
from pyglue.errors import ConfigurationError, DatabaseError, DatabaseUnreachable
from pyglue.monitoring.statement_shapes import normalize, truncate
from pyglue.routines import ADMIN_ROLE, call, translate

_Line = TypeVar("_Line")


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    total_bytes: int
    # on Citus: "distributed" or "reference" (total_bytes then sums every shard); else None
    citus: str | None = None


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
class Status:
    """What `pyglue status` shows; a `*_note` explains an empty or missing part."""

    server_version: str
    current_revision: str | None
    head_revision: str
    pending: list[str]
    pg_cron_available: bool
    pg_cron_installed: bool
    pg_stat_statements_available: bool
    pg_stat_statements_installed: bool
    tables: list[TableSize]
    runs: list[RunLine]
    runs_note: str | None
    cron_jobs: list[CronLine]
    cron_note: str | None
    top: list[TopLine]
    top_note: str | None
    pooler: bool = False  # a connection pooler (PgBouncer) between us and the server
    prepared_statements: bool = False  # psycopg prepares repeated statements (prepare_threshold)


def _pooler(conn: Connection) -> tuple[bool, bool]:
    """(through a pooler, prepared statements on) for this connection.

    The signal: the backend pid the server reports differs from the one the
    connection got at startup (BackendKeyData). PgBouncer hands its clients a
    cancel key of its own, so the two never agree through it, and always do
    on a direct connection (also through a TCP proxy or a NAT port mapping).
    """
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        return False, False
    server_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return server_pid != raw.info.backend_pid, raw.prepare_threshold is not None


def _extensions(conn: Connection) -> dict[str, tuple[bool, bool]]:
    """pg_cron and pg_stat_statements, when available: (installed here, preloaded)."""
    rows = conn.execute(
        text(
            "SELECT name, installed_version IS NOT NULL,"
            " name = ANY(string_to_array(current_setting('shared_preload_libraries'), ','))"
            " FROM pg_available_extensions"
            " WHERE name IN ('pg_cron', 'pg_stat_statements')"
        )
    )
    return {name: (bool(installed), bool(preloaded)) for name, installed, preloaded in rows}


# A partitioned table counts its partitions, which are not listed
# (pg_partition_tree gives no row for a plain table: the table itself).
TABLES = (
    "SELECT c.relname, sum(greatest(p.reltuples, 0))::bigint,"
    " sum(pg_total_relation_size(p.oid))::bigint, NULL::text"
    " FROM pg_class c LEFT JOIN LATERAL pg_partition_tree(c.oid) t ON true"
    " JOIN pg_class p ON p.oid = coalesce(t.relid, c.oid)"
    " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
    " AND c.relnamespace = 'public'::regnamespace GROUP BY c.relname ORDER BY c.relname"
)
# On a Citus coordinator (pyglue install --citus) a distributed table, and
# each partition of one, is an empty shell: its size is the sum over its
# shards (citus_total_relation_size). The row estimate stays the
# coordinator's (0 for a distributed table): the shards' would cost a query
# per shard.
CITUS_TABLES = (
    "SELECT c.relname, sum(greatest(p.reltuples, 0))::bigint,"
    " sum(CASE WHEN d.logicalrelid IS NULL THEN pg_total_relation_size(p.oid)"
    "          ELSE citus_total_relation_size(p.oid) END)::bigint,"
    " min(r.citus_table_type::text)"
    " FROM pg_class c LEFT JOIN LATERAL pg_partition_tree(c.oid) t ON true"
    " JOIN pg_class p ON p.oid = coalesce(t.relid, c.oid)"
    " LEFT JOIN pg_dist_partition d ON d.logicalrelid = p.oid"
    " LEFT JOIN citus_tables r ON r.table_name = c.oid::regclass"
    " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
    " AND c.relnamespace = 'public'::regnamespace GROUP BY c.relname ORDER BY c.relname"
)


def _tables(conn: Connection) -> list[TableSize]:
    citus = conn.execute(text("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL"))
    query = CITUS_TABLES if citus.scalar_one() else TABLES
    rows = conn.execute(text(query))
    return [
        TableSize(name, int(count), int(size), placement) for name, count, size, placement in rows
    ]


def _attempt(
    conn: Connection, read: Callable[[Connection], list[_Line]]
) -> tuple[list[_Line], str | None]:
    try:
        with conn.begin_nested():
            return read(conn), None
    except DatabaseError as exc:
        return [], str(exc)


def _runs(conn: Connection) -> list[RunLine]:
    rows = call(
        conn,
        "SELECT job_name, status, started_at,"
        " extract(epoch FROM finished_at - started_at)::float8, error"
        " FROM agentdb.maintenance_runs ORDER BY started_at DESC, id DESC LIMIT 10",
        routine="agentdb.maintenance_runs",
        role=ADMIN_ROLE,
    )
    return [RunLine(*row) for row in rows]


def _cron(conn: Connection) -> list[CronLine]:
    rows = call(
        conn,
        "SELECT j.jobname, j.schedule, j.active, d.status, d.start_time"
        " FROM cron.job j LEFT JOIN LATERAL ("
        "   SELECT r.status, r.start_time FROM cron.job_run_details r"
        "   WHERE r.jobid = j.jobid ORDER BY r.start_time DESC NULLS LAST LIMIT 1) d ON true"
        " WHERE j.database = current_database() ORDER BY j.jobname",
        routine="cron.job",
        role=None,
    )
    return [CronLine(*row) for row in rows]


def _top(conn: Connection) -> list[TopLine]:
    rows = call(
        conn,
        "SELECT calls, total_exec_ms, mean_exec_ms, query FROM agentdb.perf_stats(5)",
        routine="agentdb.perf_stats",
        role=ADMIN_ROLE,
    )
    return [TopLine(int(c), float(t), float(m), q) for c, t, m, q in rows]


def status(engine: Engine) -> Status:
    """Everything `pyglue status` shows, read in one transaction that changes nothing."""
    with engine.connect() as conn:
        install.check_server(conn)
        pooler, prepared = _pooler(conn)
        extensions = _extensions(conn)
        has_agentdb, has_perf = conn.execute(
            text(
                "SELECT to_regclass('agentdb.maintenance_runs') IS NOT NULL,"
                " to_regprocedure('agentdb.perf_stats(integer)') IS NOT NULL"
            )
        ).one()
        cron_installed = extensions.get("pg_cron", (False, False))[0]
        runs, runs_note = _attempt(conn, _runs) if has_agentdb else ([], "agentdb is not installed")
        cron_jobs, cron_note = (
            _attempt(conn, _cron)
            if cron_installed
            else ([], "pg_cron is not installed in this database")
        )
        top, top_note = (
            _attempt(conn, _top) if has_perf else ([], "agentdb.perf_stats() is not installed")
        )
        if has_perf and not top and top_note is None:
            top_note = "no statements (is pg_stat_statements installed in this database?)"
        state = Status(
            server_version=str(conn.execute(text("SHOW server_version")).scalar_one()),
            current_revision=install.current_revision(conn),
            head_revision=install.head_revision(),
            pending=install.pending_revisions(conn),
            pg_cron_available="pg_cron" in extensions and extensions["pg_cron"][1],
            pg_cron_installed=cron_installed,
            pg_stat_statements_available="pg_stat_statements" in extensions,
            pg_stat_statements_installed=extensions.get("pg_stat_statements", (False, False))[0],
            tables=_tables(conn),
            runs=runs,
            runs_note=runs_note,
            cron_jobs=cron_jobs,
            cron_note=cron_note,
            top=top,
            top_note=top_note,
            pooler=pooler,
            prepared_statements=prepared,
        )
        conn.rollback()
    return state


@dataclass(frozen=True)
class JobState:
    """The newest run of one maintenance job."""

    job_name: str
    status: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Health:
    """Can agentdb serve: reachable, at head, no job whose newest run failed (`reasons`: why not).

    pg_cron is reported, never required; `jobs_note` says why `jobs` could not be read.
    """

    healthy: bool
    reasons: list[str]
    reachable: bool
    current_revision: str | None
    head_revision: str
    pending: list[str]
    pg_cron_available: bool
    pg_cron_installed: bool
    jobs: list[JobState]
    jobs_note: str | None


def _job_states(conn: Connection) -> list[JobState]:
    rows = call(
        conn,
        "SELECT DISTINCT ON (job_name) job_name, status, started_at, finished_at"
        " FROM agentdb.maintenance_runs ORDER BY job_name, started_at DESC, id DESC",
        routine="agentdb.maintenance_runs",
        role=ADMIN_ROLE,
    )
    return [JobState(*row) for row in rows]


def _health(conn: Connection, head: str) -> Health:
    reasons: list[str] = []
    pending: list[str] = []
    try:
        install.check_server(conn)
    except ConfigurationError as exc:
        reasons.append(str(exc))
    current = install.current_revision(conn)
    if not reasons:
        pending = install.pending_revisions(conn)
        if current is None:
            reasons.append("agentdb is not installed in this database: run pyglue install")
        elif pending:
            reasons.append(
                f"revision {current} is behind head {head} (pending {', '.join(pending)}):"
                " run pyglue install"
            )
    extensions = _extensions(conn)
    has_runs = conn.execute(
        text("SELECT to_regclass('agentdb.maintenance_runs') IS NOT NULL")
    ).scalar_one()
    jobs, jobs_note = _attempt(conn, _job_states) if has_runs else ([], "agentdb is not installed")
    reasons += [
        f"the newest run of {job.job_name} failed (started {_when(job.started_at)})"
        for job in jobs
        if job.status == "failed"
    ]
    return Health(
        healthy=not reasons,
        reasons=reasons,
        reachable=True,
        current_revision=current,
        head_revision=head,
        pending=pending,
        pg_cron_available="pg_cron" in extensions and extensions["pg_cron"][1],
        pg_cron_installed=extensions.get("pg_cron", (False, False))[0],
        jobs=jobs,
        jobs_note=jobs_note,
    )


def health(engine: Engine) -> Health:
    """A health check (one transaction, changes nothing); unreachable is a reason, not raised."""
    head = install.head_revision()
    try:
        with engine.connect() as conn:
            state = _health(conn, head)
            conn.rollback()
            return state
    except DBAPIError as exc:
        error = translate(exc)
        if not isinstance(error, DatabaseUnreachable):
            raise error from exc
        return Health(False, [str(error)], False, None, head, [], False, False, [], None)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S%z") if moment else "never"


def _installed(installed: bool) -> str:
    return "installed" if installed else "not installed"


def _server_lines(state: Status) -> list[str]:
    cron = "preloaded" if state.pg_cron_available else "not preloaded"
    statements = "available" if state.pg_stat_statements_available else "not available"
    lines = [
        f"PostgreSQL {state.server_version}",
        f"revision: {state.current_revision or 'none'} (head {state.head_revision})",
        f"pending revisions: {', '.join(state.pending) or 'none'}",
        f"pg_cron: {cron}, {_installed(state.pg_cron_installed)} in this database",
        f"pg_stat_statements: {statements}, {_installed(state.pg_stat_statements_installed)}",
        _pooler_line(state),
        "tables:",
    ]
    width = max((len(t.name) for t in state.tables), default=10)
    for table in state.tables:
        size = human_bytes(table.total_bytes)
        where = f"  ({table.citus}, all shards)" if table.citus else ""
        lines.append(f"  {table.name:<{width}}  {table.rows:>12,} rows  {size:>10}{where}")
    return lines


def _pooler_line(state: Status) -> str:
    if not state.pooler:
        return "pooler: none (a direct connection)"
    if state.prepared_statements:
        return (
            "pooler: yes (the server's backend pid is not the connection's);"
            " prepared statements ON: add ?pooled=true to the URL"
        )
    return "pooler: yes (the server's backend pid is not the connection's); prepared statements off"


def _part(title: str, note: str | None, empty: str, found: Sequence[object]) -> list[str]:
    """A part's title, then its note (or `empty` when it found nothing)."""
    return [title, f"  ({note or empty})"] if note or not found else [title]


def _activity_lines(state: Status) -> list[str]:
    lines = _part("last maintenance runs:", state.runs_note, "none yet", state.runs)
    for run in state.runs:
        took = f"{run.seconds:.1f}s" if run.seconds is not None else "running"
        error = f"  {truncate(run.error, 80)}" if run.error else ""
        lines.append(f"  {_when(run.started_at)}  {run.job_name:<32} {run.status:<9} {took}{error}")
    lines += _part("pg_cron jobs:", state.cron_note, "none scheduled", state.cron_jobs)
    for job in state.cron_jobs:
        active = "active" if job.active else "inactive"
        last = (
            f"last {job.last_status} {_when(job.last_start)}" if job.last_status else "not run yet"
        )
        lines.append(f"  {job.jobname:<32} {job.schedule:<14} {active:<8} {last}")
    lines += _part(
        "top statements (pg_stat_statements, by total time):", state.top_note, "none", state.top
    )
    for top in state.top:
        query = truncate(normalize(top.query), 70)
        lines.append(
            f"  {top.calls:>9,} calls {top.total_ms:>11,.1f} ms "
            f"{top.mean_ms:>9.2f} ms/call  {query}"
        )
    return lines


def format_status(state: Status) -> list[str]:
    """The lines `pyglue status` prints."""
    return _server_lines(state) + _activity_lines(state)
