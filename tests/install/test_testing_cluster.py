"""The throwaway cluster: unprivileged server, clean removal, a one-line error without binaries."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from pyglue.errors import PostgresNotFound
from pyglue.testing import INSTALL_HINT, PgBouncer, PostgresCluster, find_bindir, find_pgbouncer


def test_server_never_runs_as_root(pg_cluster: PostgresCluster) -> None:
    owner = pwd.getpwuid((pg_cluster.datadir / "postmaster.pid").stat().st_uid).pw_name
    assert owner != "root"
    if os.geteuid() != 0:
        assert owner == pwd.getpwuid(os.geteuid()).pw_name


def test_cluster_settings(pg_cluster: PostgresCluster) -> None:
    with pg_cluster.connect() as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN"
                " ('fsync', 'listen_addresses', 'shared_preload_libraries', 'cron.database_name')"
            ).fetchall()
        )
    assert settings == {
        "fsync": "off",
        "listen_addresses": "127.0.0.1",
        "shared_preload_libraries": "pg_cron,pg_stat_statements",
        "cron.database_name": "agentdb",
    }


def test_missing_binaries_fail_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotFound) as error:
        find_bindir(pg_config=None, roots=[tmp_path])
    assert str(error.value) == INSTALL_HINT
    assert "\n" not in INSTALL_HINT


CHILD = """
import sys, time
from pyglue.testing import PostgresCluster
cluster = PostgresCluster().start()
print(cluster.basedir, cluster.port, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_cluster_is_removed_when_its_process_is_stopped(how: signal.Signals) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert child.stdout is not None
    basedir, port = child.stdout.readline().split()
    assert Path(basedir, "data", "postmaster.pid").exists()
    child.send_signal(how)
    child.wait(timeout=60)
    deadline = time.monotonic() + 30
    while Path(basedir).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(basedir).exists()
    check = subprocess.run(
        [str(find_bindir() / "pg_isready"), "-h", "127.0.0.1", "-p", port],
        capture_output=True, check=False,
    )  # fmt: skip
    assert check.returncode != 0


def test_pgbouncer_pools_transactions_onto_shared_server_connections(
    pg_cluster: PostgresCluster, empty_url: str
) -> None:
    dbname = empty_url.rsplit("/", 1)[1]
    bouncer = PgBouncer(pg_cluster, pool_size=1).start()
    try:
        pids = set()
        clients = [
            psycopg.connect(bouncer.conninfo(dbname), autocommit=True, prepare_threshold=None)
            for _ in range(3)
        ]
        for client in clients:
            row = client.execute("SELECT pg_backend_pid(), current_setting('port')").fetchone()
            assert row is not None
            pids.add(row[0])
            assert row[1] == str(pg_cluster.port)
        assert len(pids) == 1  # three clients, one server connection: transaction pooling
        pools = [row["pool_mode"] for row in bouncer.show("pools") if row["database"] == dbname]
        assert pools == ["transaction"]
        for client in clients:
            client.close()
    finally:
        bouncer.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bouncer.conninfo(dbname), connect_timeout=2)


def test_pgbouncer_missing_is_one_line_naming_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PostgresNotFound, match=r"apt-get install pgbouncer"):
        find_pgbouncer(fallback=tmp_path / "pgbouncer")
