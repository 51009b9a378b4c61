"""Read helpers on a real streaming standby: equal to the primary once replay catches up.

A read replica is passed to the read-only helpers as their bind (an Engine, or
a Session on it); there is no other switch. Writes through it fail with
ReadOnlyDatabase; maintenance there is a no-op.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from factories import (
    AGENT_ID,
    USER_ID,
    add_agent,
    add_agent_executions,
    add_memories,
    add_user,
    add_workflow,
    add_workflow_executions,
)
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pyglue import maintenance, memory, queries, stats
from pyglue.dburl import create_engine_for
from pyglue.errors import ReadOnlyDatabase
from pyglue.testing import (
    SERVER_USER,
    SUPERUSER,
    PostgresCluster,
    _ensure_os_user,
    _free_port,
    run_as_server_user,
)
from pyglue.web import agentdb_router

pytestmark = [
    pytest.mark.slow,
    pytest.mark.direct(reason="pg_basebackup and a standby of the cluster itself"),
]
DATABASE = "replica_db"
WORKFLOW_ID = uuid.UUID(int=0x5151)


@pytest.fixture(scope="module")
def pair(pg_cluster: PostgresCluster, head_template: str) -> Iterator[tuple[Engine, Engine]]:
    """(primary, replica) Engines on one database: a streaming standby by pg_basebackup -R."""
    primary_url = pg_cluster.create_database(DATABASE, template=head_template)
    basedir = Path(tempfile.mkdtemp(prefix="pyglue-replica-"))
    if os.geteuid() == 0:
        user = _ensure_os_user(SERVER_USER)
        os.chown(basedir, user.pw_uid, user.pw_gid)
    datadir, port = basedir / "data", _free_port()
    run_as_server_user(
        [str(pg_cluster.bindir / "pg_basebackup"), "-D", str(datadir), "-R", "-X", "stream",
         "-h", "127.0.0.1", "-p", str(pg_cluster.port), "-U", SUPERUSER, "--no-sync"],
        cwd=basedir,
    )  # fmt: skip
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write(f"\nport = {port}\nunix_socket_directories = '{basedir}'\n")
    pg_ctl = str(pg_cluster.bindir / "pg_ctl")
    run_as_server_user(
        [pg_ctl, "-D", str(datadir), "-l", str(basedir / "server.log"), "-w", "-t", "60", "start"],
        cwd=basedir,
    )
    primary = create_engine_for(primary_url)
    replica = create_engine_for(make_url(primary_url).set(port=port))
    try:
        yield primary, replica
    finally:
        primary.dispose()
        replica.dispose()
        run_as_server_user(
            [pg_ctl, "-D", str(datadir), "-m", "immediate", "-w", "stop"], cwd=basedir
        )
        shutil.rmtree(basedir, ignore_errors=True)
        pg_cluster.drop_database(DATABASE)


def caught_up(primary: Engine, replica: Engine) -> None:
    """Wait until the replica has replayed the primary's WAL as of now.

    The insert LSN, not pg_current_wal_lsn() (the write position): with
    synchronous_commit off a commit's record may not be written yet.
    """
    with primary.connect() as conn:
        target = conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
    deadline = time.monotonic() + 60  # a guard against a hang, not a pass/fail timing
    with replica.connect() as conn:
        query = text("SELECT pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn)")
        while not conn.execute(query, {"target": target}).scalar_one():
            assert time.monotonic() < deadline, "the standby never caught up"
            conn.rollback()
            time.sleep(0.05)


@pytest.fixture(scope="module")
def filled(pair: tuple[Engine, Engine]) -> tuple[Engine, Engine]:
    primary, replica = pair
    with primary.begin() as conn:
        add_user(conn, USER_ID)
        add_agent(conn, USER_ID, AGENT_ID, name="memory agent", tools=2, knowledgebases=1)
        add_workflow(conn, USER_ID, WORKFLOW_ID, blocks=3, node_types=("start", "llm", "end"))
        add_agent_executions(conn, USER_ID, AGENT_ID, 30, session_id="s1")
        add_workflow_executions(conn, USER_ID, WORKFLOW_ID, 12)
        add_memories(conn, 8, type_="short_term", age=timedelta(hours=1), session_id="s1")
    caught_up(primary, replica)
    return primary, replica


def _today(bind: Engine) -> date:
    with bind.connect() as conn:
        day: date = conn.execute(text("SELECT CAST(timezone('utc', now()) AS date)")).scalar_one()
    return day


def _reads(bind: Engine) -> dict[str, object]:
    """Everything the read-only helpers return for the test user, as plain values."""
    today = _today(bind)
    week = today - timedelta(days=6)
    with Session(bind) as session:
        agent_page = queries.get_agent_execution_history(session, USER_ID, AGENT_ID, limit=10)
        next_page = queries.get_agent_execution_history(
            session, USER_ID, AGENT_ID, limit=10, before=queries.cursor_of(agent_page[-1])
        )
        return {
            "dashboard": asdict(stats.user_dashboard(bind, USER_ID, 7)),
            "daily": [asdict(row) for row in stats.user_daily_stats(bind, USER_ID, week, today)],
            "agents": [asdict(row) for row in stats.agent_stats_summary(bind, USER_ID, 7)],
            "workflows": [
                asdict(row) for row in stats.workflow_daily_stats(bind, USER_ID, week, today)
            ],
            "agent_history": [run.id for run in agent_page + next_page],
            "workflow_history": [
                run.id
                for run in queries.get_workflow_execution_history(session, USER_ID, WORKFLOW_ID)
            ],
            "session": [run.id for run in queries.get_session_executions(session, "s1")],
            "recent": [
                run.id for run in queries.get_dashboard_executions_optimized(session, USER_ID)
            ],
            "search_agents": [a.id for a in queries.find_agents(session, user_id=USER_ID)],
            "search_workflows": [
                w.id for w in queries.find_workflows_with_node_type(session, "llm", user_id=USER_ID)
            ],
            "agent_document": queries.get_agent_document(session, AGENT_ID),
            "workflow_document": queries.get_workflow_document(session, WORKFLOW_ID),
            "recall": [
                (m.id, m.access_count)
                for m in memory.recall(session, AGENT_ID, session_id="s1", touch=False)
            ],
        }


def test_read_helpers_on_the_replica_equal_the_primary(filled: tuple[Engine, Engine]) -> None:
    primary, replica = filled
    on_primary = _reads(primary)  # a read bind that is the primary itself is accepted
    assert len(on_primary["agent_history"]) == 20  # type: ignore[arg-type]
    assert len(on_primary["recall"]) == 8  # type: ignore[arg-type]
    assert on_primary["agent_document"] is not None
    assert on_primary["search_workflows"] == [WORKFLOW_ID]
    assert _reads(replica) == on_primary
    # a later write reaches the replica once it has replayed past the primary's LSN
    with primary.begin() as conn:
        add_agent_executions(conn, USER_ID, AGENT_ID, 5, session_id="s1")
    caught_up(primary, replica)
    after = _reads(primary)
    assert after != on_primary
    assert _reads(replica) == after


def test_a_write_through_the_replica_is_read_only(filled: tuple[Engine, Engine]) -> None:
    _, replica = filled
    with Session(replica) as session, pytest.raises(ReadOnlyDatabase) as caught:
        memory.recall(session, AGENT_ID, session_id="s1")  # records the access: a write
    assert "read-only" in str(caught.value)
    assert "standby" in str(caught.value)
    today = _today(replica)
    with pytest.raises(ReadOnlyDatabase, match="read-only"):
        stats.refresh_execution_stats(replica, today, today)


def test_maintenance_is_a_no_op_on_the_replica(filled: tuple[Engine, Engine]) -> None:
    _, replica = filled
    assert stats.fold_execution_stats(replica) is None
    assert maintenance.run_memory_maintenance(replica) is None
    assert maintenance.last_runs(replica) == []
    with replica.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True


def test_the_web_dashboard_reads_from_the_replica(filled: tuple[Engine, Engine]) -> None:
    primary, replica = filled
    app = FastAPI()
    app.include_router(agentdb_router(primary, admin=_open, read_engine=replica))

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(f"/agentdb/stats/users/{USER_ID}/dashboard?days=7")

    response = asyncio.run(get())
    assert response.status_code == 200
    expected = stats.user_dashboard(primary, USER_ID, 7)
    assert response.json()["total"] == expected.total > 0
    # the route really reads through read_engine: a replica URL naming no database fails it
    nowhere = create_engine_for(replica.url.set(database="no_such_db"))
    app = FastAPI()
    app.include_router(agentdb_router(primary, admin=_open, read_engine=nowhere))
    response = asyncio.run(get())
    nowhere.dispose()
    assert response.status_code == 503, response.text
    with pytest.raises(TypeError, match="engine must be a SQLAlchemy Engine, not str"):
        agentdb_router(primary, admin=_open, read_engine="postgresql://replica")  # type: ignore[arg-type]


def _open() -> None:
    """An admin dependency that lets everyone in (the test app only)."""
