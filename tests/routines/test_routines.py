"""pyglue.routines on a real database: every bind, who commits, and the SQLSTATE table."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue.errors import (
    ConfigurationError,
    DatabaseError,
    DatabaseUnreachable,
    InvalidArgument,
    LockTimeout,
    NotInstalled,
    OutsideTransactionRequired,
    PermissionDenied,
    QueryCanceled,
    ReadOnlyDatabase,
)
from pyglue.routines import ADMIN_ROLE, APP_ROLE, AsyncBind, call, call_async, call_procedure

RECORD = "SELECT agentdb.record_slow_query(1200, 'SELECT ?')"
BAD_DAYS = "SELECT * FROM agentdb.user_dashboard(:user_id, 0)"
USER = {"user_id": uuid.UUID(int=1)}


def _record(bind: Engine | Connection | Session, *, commit: bool = False) -> None:
    call(bind, RECORD, routine="agentdb.record_slow_query", role=APP_ROLE, commit=commit)


def _recorded(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM agentdb.slow_queries")).scalar_one())


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection


# -- binds and transactions ---------------------------------------------------------


def test_engine_commits_only_when_asked(engine: Engine) -> None:
    _record(engine)
    assert _recorded(engine) == 0
    _record(engine, commit=True)
    assert _recorded(engine) == 1


def test_connection_and_session_stay_in_the_callers_transaction(engine: Engine) -> None:
    with engine.connect() as connection:
        _record(connection, commit=True)
        connection.rollback()
    with Session(engine) as session:
        _record(session, commit=True)
        session.rollback()
    assert _recorded(engine) == 0
    with Session(engine) as session:
        _record(session)
        session.commit()
    assert _recorded(engine) == 1


def test_rows_come_back(engine: Engine) -> None:
    rows = call(
        engine,
        "SELECT total FROM agentdb.user_dashboard(:user_id, :days)",
        {**USER, "days": 7},
        routine="agentdb.user_dashboard",
        role=APP_ROLE,
    )
    assert [tuple(row) for row in rows] == [(0,)]


def test_async_binds(head_url: str) -> None:
    async def record(bind: AsyncBind, *, commit: bool = False) -> None:
        await call_async(
            bind, RECORD, routine="agentdb.record_slow_query", role=APP_ROLE, commit=commit
        )

    async def recorded(engine: AsyncEngine) -> int:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT count(*) FROM agentdb.slow_queries"))
            return int(result.scalar_one())

    async def run() -> list[int]:
        engine = create_async_engine(head_url, poolclass=NullPool)
        try:
            await record(engine)
            counts = [await recorded(engine)]
            await record(engine, commit=True)
            counts.append(await recorded(engine))
            async with engine.connect() as connection:
                await record(connection, commit=True)
                await connection.rollback()
            async with AsyncSession(engine) as session:
                await record(session, commit=True)
                await session.rollback()
                with pytest.raises(InvalidArgument, match=r"^p_days must be between") as caught:
                    await call_async(
                        session, BAD_DAYS, USER, routine="agentdb.user_dashboard", role=APP_ROLE
                    )
                assert caught.value.parameter == "p_days"
            counts.append(await recorded(engine))
            return counts
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == [0, 1, 1]


def test_a_bind_of_the_wrong_kind_is_a_type_error(engine: Engine) -> None:
    with pytest.raises(TypeError, match="bind must be a SQLAlchemy Engine, Connection or Session"):
        call("postgresql://x", "SELECT 1", routine="x", role=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bind must be a SQLAlchemy AsyncEngine"):
        asyncio.run(call_async(engine, "SELECT 1", routine="x", role=None))  # type: ignore[arg-type]
    with engine.connect() as connection, pytest.raises(TypeError, match=r"bind must be .*Engine"):
        call_procedure(connection, "CALL x()", routine="x", role=None)  # type: ignore[arg-type]


def test_call_procedure_runs_in_autocommit(engine: Engine) -> None:
    rows = call_procedure(
        engine,
        "CALL agentdb.run_memory_maintenance(10, true, NULL)",
        routine="agentdb.run_memory_maintenance",
        role=ADMIN_ROLE,
    )
    run_id = rows[0][0]
    with engine.connect() as connection:
        status = connection.execute(
            text("SELECT status FROM agentdb.maintenance_runs WHERE id = :id"), {"id": run_id}
        ).scalar_one()
    assert status == "succeeded"


# -- the SQLSTATE table ----------------------------------------------------------------


def test_22023_names_the_parameter_without_the_routine(engine: Engine) -> None:
    with pytest.raises(InvalidArgument) as caught:
        call(engine, BAD_DAYS, USER, routine="agentdb.user_dashboard", role=APP_ROLE)
    error = caught.value
    assert str(error) == "p_days must be between 1 and 3660, got 0"
    assert (error.parameter, error.sqlstate, error.routine) == (
        "p_days",
        "22023",
        "agentdb.user_dashboard",
    )
    assert isinstance(error, ConfigurationError)
    assert isinstance(error, ValueError)


def test_23514_names_the_column(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match="memory_type must be short_term") as caught:
        call(
            engine,
            "INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis, max_age)"
            " VALUES ('probe', 'semantic', 'created', interval '1 day')",
            routine="agentdb.memory_policies",
            role=ADMIN_ROLE,
        )
    assert (caught.value.parameter, caught.value.sqlstate) == ("memory_type", "23514")


def test_42501_names_the_role_to_grant(conn: Connection) -> None:
    conn.execute(text("SET ROLE agentdb_app"))
    with pytest.raises(PermissionDenied) as caught:
        call(
            conn,
            "SELECT * FROM agentdb.perf_stats(5)",
            routine="agentdb.perf_stats",
            role=ADMIN_ROLE,
        )
    assert str(caught.value) == (
        "agentdb.perf_stats: permission denied for function perf_stats"
        " (grant the role agentdb_admin to this user)"
    )
    assert (caught.value.role_needed, caught.value.sqlstate) == (ADMIN_ROLE, "42501")


def test_2D000_says_to_call_outside_a_transaction(conn: Connection) -> None:  # noqa: N802
    with pytest.raises(OutsideTransactionRequired, match="CALL it outside a transaction block"):
        call(
            conn,
            "CALL agentdb.run_memory_maintenance(10, true, NULL)",
            routine="agentdb.run_memory_maintenance",
            role=ADMIN_ROLE,
        )


def test_55P03_is_a_lock_timeout(engine: Engine) -> None:  # noqa: N802
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(text("LOCK TABLE agentdb.slow_queries IN ACCESS EXCLUSIVE MODE"))
        waiter.execute(text("SET LOCAL lock_timeout = '50ms'"))
        with pytest.raises(LockTimeout, match="lock timeout") as caught:
            _record(waiter)
        assert caught.value.sqlstate == "55P03"
        assert str(caught.value).startswith("agentdb.record_slow_query: ")


def test_57014_is_canceled(conn: Connection) -> None:
    conn.execute(text("SET LOCAL statement_timeout = '50ms'"))
    with pytest.raises(QueryCanceled) as caught:
        call(conn, "SELECT pg_sleep(5)", routine="pg_sleep", role=None)
    assert str(caught.value) == "pg_sleep: canceling statement due to statement timeout"


def test_25006_says_the_bind_points_at_a_standby(conn: Connection) -> None:
    conn.execute(text("SET TRANSACTION READ ONLY"))
    with pytest.raises(ReadOnlyDatabase, match="the bind points at a standby") as caught:
        _record(conn)
    assert caught.value.sqlstate == "25006"


@pytest.mark.parametrize(
    ("statement", "sqlstate"),
    [
        ("SELECT agentdb.no_such_routine()", "42883"),
        ("SELECT * FROM agentdb.no_such_table", "42P01"),
        ("SELECT no_such_schema.user_dashboard()", "3F000"),
    ],
)
def test_missing_objects_mean_not_installed(engine: Engine, statement: str, sqlstate: str) -> None:
    with pytest.raises(NotInstalled, match="run pyglue install") as caught:
        call(engine, statement, routine="agentdb.probe", role=APP_ROLE)
    assert caught.value.sqlstate == sqlstate


def test_unreachable_server() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/nowhere", poolclass=NullPool)
    with pytest.raises(DatabaseUnreachable) as caught:
        call(engine, "SELECT 1", routine="agentdb.probe", role=APP_ROLE)
    assert str(caught.value).startswith("agentdb.probe: cannot reach the database: ")
    assert caught.value.sqlstate is None


def test_an_operational_error_from_the_server_is_not_unreachability(conn: Connection) -> None:
    conn.execute(text("SET LOCAL work_mem = '64kB'"))
    conn.execute(text("SET LOCAL temp_file_limit = '64kB'"))
    with pytest.raises(DatabaseError) as caught:
        call(
            conn,
            "SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC) s",
            routine="probe",
            role=None,
        )
    error = caught.value
    assert isinstance(error.__cause__, OperationalError)
    assert not isinstance(error, DatabaseUnreachable)
    assert error.sqlstate == "53400"
    assert str(error).startswith("probe: temporary file size exceeds temp_file_limit")


def test_anything_else_is_a_database_error_with_its_sqlstate(engine: Engine) -> None:
    with pytest.raises(DatabaseError) as caught:
        call(engine, "SELECT 'bad'::uuid", routine="probe", role=None)
    assert type(caught.value) is DatabaseError
    assert caught.value.sqlstate == "22P02"
    assert str(caught.value) == 'probe: invalid input syntax for type uuid: "bad"'
