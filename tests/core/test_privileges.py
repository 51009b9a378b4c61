"""Issue 12, security 2: who may execute every routine and touch every table of schema agentdb.

Four roles: none (a login role with no grant), app (a member of agentdb_app),
admin (a member of agentdb_admin) and owner (the installer, who owns every
object). The matrix is exact: a new routine or table fails this test until
its privileges are written down here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from pyglue.dburl import libpq_dsn, resolve_url

ROLES = ("none", "app", "admin", "owner")

OWNER = {"owner"}
ADMIN = {"admin", "owner"}
APP = {"app", "admin", "owner"}  # agentdb_admin is a member of agentdb_app

# routine -> the roles that may EXECUTE it (none: no routine is PUBLIC's)
EXECUTE: dict[str, set[str]] = {
    "agentdb.agent_document(uuid)": APP,
    "agentdb.agent_stats_now(uuid,date,date)": OWNER,
    "agentdb.agent_stats_summary(uuid,integer)": APP,
    "agentdb.begin_run(text)": ADMIN,
    "agentdb.build_expiry_predicate(text,text,text,text)": ADMIN,
    "agentdb.check_execution_stats(date)": ADMIN,
    "agentdb.cleanup_expired_memories(integer,integer,jsonb)": ADMIN,
    "agentdb.close_abandoned_runs(text)": ADMIN,
    "agentdb.consolidate_memories(uuid)": ADMIN,
    "agentdb.create_partitions_ahead(regclass,integer,boolean,interval)": ADMIN,
    "agentdb.cron_available()": APP,
    "agentdb.drop_expired_partitions(timestamp with time zone,interval)": ADMIN,
    "agentdb.expired_partitions(timestamp with time zone)": ADMIN,
    "agentdb.finish_run(bigint,text,jsonb,text)": ADMIN,
    "agentdb.fold_execution_stats(integer,bigint)": ADMIN,
    "agentdb.fold_stats_batch(integer)": OWNER,
    "agentdb.fold_stats_if_free()": OWNER,
    "agentdb.monthly_partitions(regclass)": ADMIN,
    "agentdb.partman_available()": ADMIN,
    "agentdb.perf_stats(integer)": ADMIN,
    "agentdb.preview_memory_cleanup()": ADMIN,
    "agentdb.preview_memory_consolidation(uuid)": ADMIN,
    "agentdb.preview_retention()": ADMIN,
    "agentdb.purge_slow_queries(interval,integer)": ADMIN,
    "agentdb.raw_agent_execution_stats(date,date)": ADMIN,
    "agentdb.raw_workflow_execution_stats(date,date)": ADMIN,
    "agentdb.record_run_counts(bigint,jsonb)": ADMIN,
    "agentdb.record_slow_query(double precision,text,timestamp with time zone)": APP,
    "agentdb.refresh_execution_stats(date,date)": ADMIN,
    "agentdb.register_job(text,text,text,text)": OWNER,
    "agentdb.retention_horizon()": ADMIN,
    "agentdb.run_memory_maintenance(integer,boolean,bigint)": ADMIN,
    "agentdb.run_retention_maintenance(boolean,interval,bigint)": ADMIN,
    "agentdb.schedule_maintenance()": ADMIN,
    "agentdb.table_health()": APP,
    "agentdb.touch_memories(uuid[])": APP,
    "agentdb.track_agent_execution_stats()": OWNER,
    "agentdb.check_workflow_execution_reference()": OWNER,
    "agentdb.clear_workflow_execution_references()": OWNER,
    "agentdb.track_execution_metrics_stats()": OWNER,
    "agentdb.track_workflow_execution_stats()": OWNER,
    "agentdb.unregister_job(text)": OWNER,
    "agentdb.unschedule_maintenance()": ADMIN,
    "agentdb.take_agent_user_id()": OWNER,
    "agentdb.take_workflow_user_id()": OWNER,
    "agentdb.take_execution_user_id()": OWNER,
    "agentdb.pass_agent_user_id()": OWNER,
    "agentdb.pass_workflow_user_id()": OWNER,
    "agentdb.pass_execution_user_id()": OWNER,
    "agentdb.user_daily_stats(uuid,date,date)": APP,
    "agentdb.user_dashboard(uuid,integer)": APP,
    "agentdb.user_stats_now(uuid,date,date)": OWNER,
    "agentdb.validate_memory_policy()": OWNER,
    "agentdb.validate_retention_policy()": OWNER,
    "agentdb.verify_execution_stats(date,date)": ADMIN,
    "agentdb.workflow_document(uuid)": APP,
    "agentdb.workflow_stats_now(uuid,date,date)": APP,
}

# table -> role -> the privileges it holds, as letters: Select Insert Update Delete Truncate.
# The run log is append-only for all but its owner: jobs write it through
# agentdb's SECURITY DEFINER routines.
TABLES: dict[str, dict[str, str]] = {
    "agentdb.agent_stats_deltas": {"none": "", "app": "", "admin": "", "owner": "SIUDT"},
    "agentdb.maintenance_runs": {"none": "", "app": "", "admin": "S", "owner": "SIUDT"},
    "agentdb.memory_policies": {"none": "", "app": "", "admin": "SIUD", "owner": "SIUDT"},
    "agentdb.retention_policies": {"none": "", "app": "", "admin": "SIUD", "owner": "SIUDT"},
    "agentdb.scheduled_jobs": {"none": "", "app": "", "admin": "S", "owner": "SIUDT"},
    "agentdb.slow_queries": {"none": "", "app": "", "admin": "S", "owner": "SIUDT"},
    "agentdb.workflow_stats_deltas": {"none": "", "app": "", "admin": "", "owner": "SIUDT"},
}

ROUTINES_SQL = """
SELECT p.oid::regprocedure::text, p.oid FROM pg_proc p
WHERE p.pronamespace = 'agentdb'::regnamespace ORDER BY 1
"""
TABLES_SQL = """
SELECT c.oid::regclass::text, c.oid FROM pg_class c
WHERE c.relnamespace = 'agentdb'::regnamespace AND c.relkind IN ('r', 'p', 'v') ORDER BY 1
"""
PRIVILEGES = {"S": "SELECT", "I": "INSERT", "U": "UPDATE", "D": "DELETE", "T": "TRUNCATE"}


@pytest.fixture
def roles(head_url: str) -> Iterator[tuple[psycopg.Connection[tuple[object, ...]], dict[str, str]]]:
    suffix = uuid.uuid4().hex[:8]
    names = {"none": f"none_{suffix}", "app": f"app_{suffix}", "admin": f"admin_{suffix}"}
    with psycopg.connect(libpq_dsn(resolve_url(head_url)), autocommit=True) as conn:
        for role, name in names.items():
            conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)))
            if role != "none":
                conn.execute(
                    sql.SQL("GRANT {} TO {}").format(
                        sql.Identifier(f"agentdb_{role}"), sql.Identifier(name)
                    )
                )
        owner = conn.execute("SELECT current_user").fetchone()
        assert owner is not None
        try:
            yield conn, {**names, "owner": str(owner[0])}
        finally:
            for name in names.values():
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def execute_matrix(
    conn: psycopg.Connection[tuple[object, ...]], names: dict[str, str]
) -> dict[str, set[str]]:
    matrix: dict[str, set[str]] = {}
    for routine, oid in conn.execute(ROUTINES_SQL).fetchall():
        matrix[str(routine)] = {
            role
            for role in ROLES
            if conn.execute(
                "SELECT has_function_privilege(%s, %s, 'EXECUTE')", [names[role], oid]
            ).fetchone()
            == (True,)
        }
    return matrix


def table_matrix(
    conn: psycopg.Connection[tuple[object, ...]], names: dict[str, str]
) -> dict[str, dict[str, str]]:
    matrix: dict[str, dict[str, str]] = {}
    for table, oid in conn.execute(TABLES_SQL).fetchall():
        matrix[str(table)] = {
            role: "".join(
                letter
                for letter, privilege in PRIVILEGES.items()
                if conn.execute(
                    "SELECT has_table_privilege(%s, %s, %s)", [names[role], oid, privilege]
                ).fetchone()
                == (True,)
            )
            for role in ROLES
        }
    return matrix


def test_every_routine_and_table_has_exactly_its_privileges(
    roles: tuple[psycopg.Connection[tuple[object, ...]], dict[str, str]],
) -> None:
    conn, names = roles
    assert execute_matrix(conn, names) == EXECUTE
    assert table_matrix(conn, names) == TABLES


def as_role(conn: psycopg.Connection[tuple[object, ...]], role: str) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def test_admin_cannot_forge_or_rewrite_the_run_log(
    roles: tuple[psycopg.Connection[tuple[object, ...]], dict[str, str]],
) -> None:
    conn, names = roles
    as_role(conn, names["admin"])
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO agentdb.maintenance_runs (job_name) VALUES ('forged')")
        run = conn.execute("SELECT agentdb.begin_run('agentdb-test')").fetchone()
        assert run is not None
        conn.execute("SELECT agentdb.record_run_counts(%s, '{\"rows\": 1}')", [run[0]])
        conn.execute("SELECT agentdb.finish_run(%s, 'failed', '{}', 'boom')", [run[0]])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "UPDATE agentdb.maintenance_runs SET status = 'succeeded' WHERE id = %s", [run[0]]
            )
        with pytest.raises(psycopg.errors.InvalidParameterValue) as closed:
            conn.execute("SELECT agentdb.finish_run(%s, 'succeeded')", [run[0]])
        assert closed.value.diag.message_primary == (
            f"p_run_id {run[0]}: the run is already closed (a closed run is never rewritten)"
        )
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SELECT agentdb.record_run_counts(%s, '{}')", [run[0]])
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            conn.execute("SELECT agentdb.close_abandoned_runs('agentdb-memory-maintenance')")
        assert conn.execute(
            "SELECT status, counts, error FROM agentdb.maintenance_runs WHERE id = %s", [run[0]]
        ).fetchone() == ("failed", {}, "boom")
    finally:
        conn.execute("RESET ROLE")


@pytest.mark.parametrize("recorded_at", ["infinity", "-infinity", "3000-01-01"])
def test_record_slow_query_refuses_a_time_that_would_outlive_every_purge(
    roles: tuple[psycopg.Connection[tuple[object, ...]], dict[str, str]], recorded_at: str
) -> None:
    conn, names = roles
    as_role(conn, names["app"])
    try:
        with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
            conn.execute(
                "SELECT agentdb.record_slow_query(1500, 'SELECT ?', %s::timestamptz)", [recorded_at]
            )
        assert str(refused.value.diag.message_primary).startswith(
            "p_recorded_at must be a finite time at most 5 minutes ahead, not "
        )
        conn.execute(
            "SELECT agentdb.record_slow_query(1500, 'SELECT ?', now() - interval '1 hour')"
        )
    finally:
        conn.execute("RESET ROLE")
