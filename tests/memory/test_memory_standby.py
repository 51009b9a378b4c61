"""On a standby (in recovery) the memory maintenance does nothing: a real streaming replica."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from factories import add_memories, add_memory_agent
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from pyglue import cli, maintenance
from pyglue.dburl import create_engine_for
from pyglue.testing import (
    SERVER_USER,
    SUPERUSER,
    PostgresCluster,
    _ensure_os_user,
    _free_port,
    run_as_server_user,
)


@pytest.fixture
def standby(pg_cluster: PostgresCluster, engine: Engine) -> Iterator[str]:
    """A streaming replica of the test cluster (pg_basebackup -R); yields its test database URL."""
    add_memory_agent(engine)
    with engine.begin() as conn:
        add_memories(conn, 20, type_="short_term", age=timedelta(days=2))
    basedir = Path(tempfile.mkdtemp(prefix="pyglue-standby-"))
    if os.geteuid() == 0:
        user = _ensure_os_user(SERVER_USER)
        os.chown(basedir, user.pw_uid, user.pw_gid)

    def as_server(*args: str) -> None:
        run_as_server_user(list(args), cwd=basedir)

    datadir = basedir / "data"
    as_server(
        str(pg_cluster.bindir / "pg_basebackup"), "-D", str(datadir), "-R", "-X", "stream",
        "-h", "127.0.0.1", "-p", str(pg_cluster.port), "-U", SUPERUSER, "--no-sync",
    )  # fmt: skip
    port = _free_port()
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write(f"\nport = {port}\nunix_socket_directories = '{basedir}'\n")
    as_server(str(pg_cluster.bindir / "pg_ctl"), "-D", str(datadir), "-l",
              str(basedir / "server.log"), "-w", "-t", "60", "start")  # fmt: skip
    url = make_url(str(engine.url)).set(port=port).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        as_server(
            str(pg_cluster.bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"
        )
        shutil.rmtree(basedir, ignore_errors=True)


@pytest.mark.slow
def test_standby_does_nothing(
    standby: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    replica = create_engine_for(standby, poolclass=NullPool)
    dsn = make_url(standby).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + 30
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM agent_memories").fetchone() != (20,):
            assert time.monotonic() < deadline, "the standby never caught up"
            time.sleep(0.1)
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        notices: list[str] = []
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        assert conn.execute("CALL agentdb.run_memory_maintenance()").fetchone() == (None,)
        assert notices == [
            "agentdb.run_memory_maintenance: this server is a standby;"
            " nothing to do (the primary runs the maintenance)"
        ]
    assert maintenance.run_memory_maintenance(replica) is None
    replica.dispose()
    assert cli.main(["maintain", "memory", "--database-url", standby]) == 0
    assert capsys.readouterr().out == (
        "this server is a standby: nothing to do (the primary runs the maintenance)\n"
    )
    assert maintenance.last_runs(engine) == []  # nothing was logged, on either side
    run = maintenance.run_memory_maintenance(engine)  # the primary does the work
    assert run is not None
    assert run.rows_deleted == 20
