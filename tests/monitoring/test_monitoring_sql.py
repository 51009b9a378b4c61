"""agentdb.perf_stats, table_health, record_slow_query, purge_slow_queries; revision 0008."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from pyglue import install
from pyglue.dburl import create_engine_for
from pyglue.errors import PermissionDenied
from pyglue.monitoring import perf_stats, table_health
from pyglue.testing import PostgresCluster

MARKER = "SELECT count(*) AS pyglue_perf_marker FROM agentdb.scheduled_jobs WHERE job_name <> :n"


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection


def _notices(conn: Connection) -> list[str]:
    messages: list[str] = []
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    driver.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
    return messages


def _sqlstate(exc: pytest.ExceptionInfo[DBAPIError]) -> Any:
    return getattr(exc.value.orig, "sqlstate", None)


# -- perf_stats ----------------------------------------------------------------------


def test_perf_stats_without_pg_stat_statements_gives_a_notice_and_no_rows(
    conn: Connection,
) -> None:
    notices = _notices(conn)
    assert conn.execute(text("SELECT * FROM agentdb.perf_stats()")).all() == []
    assert len(notices) == 1
    assert notices[0].startswith(
        f"pg_stat_statements is not installed in database {conn.engine.url.database}"
    )
    assert "CREATE EXTENSION pg_stat_statements" in notices[0]


def test_perf_stats_with_pg_stat_statements(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION pg_stat_statements"))
    with engine.connect() as conn:
        for name in ("a", "b", "c"):
            conn.execute(text(MARKER), {"n": name})
        conn.commit()
    rows = [row for row in perf_stats(engine, 1000) if "pyglue_perf_marker" in row.query]
    assert len(rows) == 1
    (row,) = rows
    assert (row.calls, row.rows, row.role_name) == (3, 3, "postgres")
    assert row.query == (
        "SELECT count(*) AS pyglue_perf_marker FROM agentdb.scheduled_jobs WHERE job_name <> $1"
    )
    assert row.total_exec_ms >= row.max_exec_ms >= row.mean_exec_ms > 0
    assert row.shared_blks_hit + row.shared_blks_read > 0
    top = perf_stats(engine, 2)
    assert len(top) == 2
    assert top[0].total_exec_ms >= top[1].total_exec_ms
    with engine.connect() as conn:
        # only this database's statements
        other = conn.execute(
            text(
                "SELECT count(*) FROM agentdb.perf_stats(1000) p"
                " WHERE p.queryid NOT IN (SELECT s.queryid FROM pg_stat_statements s"
                "  WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))"
            )
        ).scalar()
        assert other == 0


@pytest.mark.parametrize("limit", ["0", "1001", "NULL", "-3"])
def test_perf_stats_validates_p_limit(conn: Connection, limit: str) -> None:
    with pytest.raises(DBAPIError, match="p_limit must be an integer between 1 and 1000") as exc:
        conn.execute(text(f"SELECT * FROM agentdb.perf_stats({limit})"))
    assert _sqlstate(exc) == "22023"


def test_perf_stats_python_bad_limit(engine: Engine) -> None:
    with pytest.raises(ValueError, match="limit must be an integer between 1 and 1000, not 0"):
        perf_stats(engine, 0)


def test_privileges(conn: Connection) -> None:
    def as_role(role: str, statement: str) -> Any:
        with conn.begin_nested():
            conn.execute(text(f"SET LOCAL ROLE {role}"))
            return conn.execute(text(statement)).all()

    conn.begin()
    conn.execute(text("CREATE ROLE pyglue_t_nobody"))  # rolled back with the test
    assert as_role("agentdb_admin", "SELECT * FROM agentdb.perf_stats(5)") == []
    assert len(as_role("agentdb_app", "SELECT * FROM agentdb.table_health()")) > 20
    assert as_role("agentdb_app", "SELECT agentdb.record_slow_query(1200, 'SELECT ?')") == [(1,)]
    for role, statement in [
        ("agentdb_app", "SELECT * FROM agentdb.perf_stats(5)"),
        ("agentdb_app", "SELECT * FROM agentdb.slow_queries"),
        ("agentdb_app", "SELECT * FROM agentdb.purge_slow_queries()"),
        (
            "agentdb_admin",
            "INSERT INTO agentdb.slow_queries (duration_ms, statement) VALUES (1, 'x')",
        ),
        ("pyglue_t_nobody", "SELECT * FROM agentdb.table_health()"),
    ]:
        with pytest.raises(DBAPIError, match="permission denied") as exc:
            as_role(role, statement)
        assert _sqlstate(exc) == "42501"
    assert as_role("agentdb_admin", "SELECT status FROM agentdb.purge_slow_queries()") == [
        ("succeeded",)
    ]
    assert as_role("agentdb_admin", "SELECT count(*) FROM agentdb.slow_queries") == [(1,)]
    conn.rollback()


def test_perf_stats_python_wrapper_names_the_role(
    head_url: str, pg_cluster: PostgresCluster
) -> None:
    with pg_cluster.connect() as admin:
        admin.execute("DROP ROLE IF EXISTS pyglue_t_app")
        admin.execute("CREATE ROLE pyglue_t_app LOGIN IN ROLE agentdb_app")
    engine = create_engine_for(head_url.replace("postgres@", "pyglue_t_app@"))
    try:
        with pytest.raises(PermissionDenied, match="grant the role agentdb_admin") as exc:
            perf_stats(engine)
        assert exc.value.role_needed == "agentdb_admin"
        assert len(table_health(engine)) > 20
    finally:
        engine.dispose()
        with pg_cluster.connect() as admin:
            admin.execute("DROP ROLE pyglue_t_app")


# -- table_health --------------------------------------------------------------------


def test_table_health_marks_unused_indexes(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE public.th_probe (id int PRIMARY KEY, v int, w int)"))
        conn.execute(text("CREATE INDEX th_probe_v ON public.th_probe (v)"))
        conn.execute(text("CREATE INDEX th_probe_w ON public.th_probe (w)"))
        conn.execute(
            text("INSERT INTO public.th_probe SELECT g, g, g FROM generate_series(1, 500) g")
        )
        conn.execute(text("DELETE FROM public.th_probe WHERE id <= 100"))
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SELECT * FROM public.th_probe WHERE v = 200")).all()
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE public.th_probe"))
        conn.commit()
    rows = [r for r in table_health(engine) if r.table_name == "th_probe"]
    assert [(r.kind, r.index_name) for r in rows] == [
        ("table", None),
        ("index", "th_probe_pkey"),
        ("index", "th_probe_v"),
        ("index", "th_probe_w"),
    ]
    table, pkey, v, w = rows
    assert (table.schema_name, table.live_rows, table.dead_rows) == ("public", 400, 100)
    assert table.dead_percent is not None
    assert float(table.dead_percent) == 20.0
    assert table.last_analyze is not None
    assert table.last_vacuum is None
    assert table.total_bytes > 0
    assert (pkey.is_unique, pkey.unused) == (True, False)  # never scanned, but a constraint
    assert v.index_scans is not None
    assert v.index_scans >= 1
    assert (v.is_unique, v.unused) == (False, False)
    assert (w.index_scans, w.unused) == (0, True)
    assert w.total_bytes > 0


# -- slow_queries: record and purge ---------------------------------------------------


def test_record_slow_query_validates(conn: Connection) -> None:
    for call, message in [
        ("agentdb.record_slow_query(-1, 'SELECT ?')", "p_duration_ms must be a finite number"),
        ("agentdb.record_slow_query('NaN', 'SELECT ?')", "p_duration_ms must be a finite number"),
        ("agentdb.record_slow_query(NULL, 'SELECT ?')", "p_duration_ms must be a finite number"),
        ("agentdb.record_slow_query(5, '  ')", "p_statement must be a non-empty statement"),
    ]:
        with pytest.raises(DBAPIError, match=message) as exc:
            conn.execute(text(f"SELECT {call}"))
        assert _sqlstate(exc) == "22023"
        conn.rollback()
    conn.execute(text("SELECT agentdb.record_slow_query(5, repeat('x', 3000))"))
    assert conn.execute(text("SELECT length(statement) FROM agentdb.slow_queries")).scalar() == 2000


def test_purge_keeps_the_table_bounded_and_logs_its_run(conn: Connection) -> None:
    conn.execute(
        text(
            "SELECT agentdb.record_slow_query(1000 + g, 'SELECT ' || g,"
            " now() - make_interval(days => d))"
            " FROM (VALUES (1, 8), (2, 9), (3, 1), (4, 0), (5, 0)) AS v(g, d)"
        )
    )
    result = conn.execute(text("SELECT * FROM agentdb.purge_slow_queries('7 days', 2)")).one()
    assert tuple(result) == ("succeeded", 2, 1)
    kept = conn.execute(text("SELECT statement FROM agentdb.slow_queries ORDER BY id")).scalars()
    assert list(kept) == ["SELECT 4", "SELECT 5"]
    run = conn.execute(
        text(
            "SELECT job_name, status, counts FROM agentdb.maintenance_runs ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert tuple(run) == (
        "agentdb-purge-slow-queries",
        "succeeded",
        {"deleted_by_age": 2, "deleted_by_count": 1},
    )
    assert tuple(conn.execute(text("SELECT * FROM agentdb.purge_slow_queries()")).one()) == (
        "succeeded",
        0,
        0,
    )
    for call, message in [
        ("agentdb.purge_slow_queries('0 days')", "p_keep must be a positive interval"),
        ("agentdb.purge_slow_queries('7 days', 0)", "p_max_rows must be an integer >= 1"),
    ]:
        conn.rollback()
        with pytest.raises(DBAPIError, match=message) as exc:
            conn.execute(text(f"SELECT * FROM {call}"))
        assert _sqlstate(exc) == "22023"


def test_concurrent_purge_is_skipped(engine: Engine) -> None:
    with engine.connect() as holder, engine.connect() as second:
        holder.execute(text("SELECT pg_advisory_xact_lock(hashtext('agentdb-purge-slow-queries'))"))
        assert tuple(second.execute(text("SELECT * FROM agentdb.purge_slow_queries()")).one()) == (
            "skipped",
            0,
            0,
        )
        second.commit()
        holder.rollback()
        statuses = second.execute(
            text(
                "SELECT status FROM agentdb.maintenance_runs"
                " WHERE job_name = 'agentdb-purge-slow-queries'"
            )
        ).scalars()
        assert list(statuses) == ["skipped"]


def test_purge_job_is_registered(conn: Connection) -> None:
    row = conn.execute(
        text(
            "SELECT schedule, command FROM agentdb.scheduled_jobs"
            " WHERE job_name = 'agentdb-purge-slow-queries'"
        )
    ).one()
    assert tuple(row) == ("17 * * * *", "SELECT * FROM agentdb.purge_slow_queries()")


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    install.downgrade(engine, "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('agentdb.slow_queries')")).scalar() is None
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_proc WHERE pronamespace = 'agentdb'::regnamespace"
                    " AND proname IN ('perf_stats', 'table_health', 'record_slow_query',"
                    " 'purge_slow_queries')"
                )
            ).scalar()
            == 0
        )
        assert (
            conn.execute(
                text("SELECT count(*) FROM agentdb.scheduled_jobs WHERE job_name LIKE '%slow%'")
            ).scalar()
            == 0
        )
    install.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agentdb.table_health()")).scalar() > 20
