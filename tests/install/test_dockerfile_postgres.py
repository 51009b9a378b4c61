"""Dockerfile.postgres, tested without Docker (no engine runs here).

Statically: the base image, the pg_cron package and where the files land.
Then the init script is run for real against a data directory made by this
machine's initdb, and the server is started on the result: the preloaded
libraries load, cron.database_name is the one the environment named,
pg_cron can be created there, and auto_explain logs slow statements.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pyglue.testing import (
    SERVER_USER,
    SUPERUSER,
    _ensure_os_user,
    _free_port,
    find_bindir,
    run_as_server_user,
)

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile.postgres"
CONF = ROOT / "docker" / "postgres" / "agentdb.conf"
INIT_SCRIPT = ROOT / "docker" / "postgres" / "initdb" / "10-agentdb-settings.sh"


def _instructions() -> list[tuple[str, str]]:
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1].strip())
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _settings(text: str) -> dict[str, str]:
    settings: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            key, value = (part.strip() for part in re.split(r"\s*=\s*|\s+", line, maxsplit=1))
            settings[key] = value.strip("'")
    return settings


def test_dockerfile_base_image_and_packages() -> None:
    instructions = _instructions()
    assert instructions[0] == ("ARG", "PG_MAJOR=15")
    assert instructions[1] == ("FROM", "postgres:${PG_MAJOR}-bookworm")
    assert ("ARG", "PG_MAJOR") in instructions[2:]
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert 'apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}-cron"' in runs
    assert "rm -rf /var/lib/apt/lists/*" in runs
    copies = [arg.split()[-2:] for op, arg in instructions if op == "COPY"]
    assert copies == [
        ["docker/postgres/agentdb.conf", "/etc/postgresql/agentdb.conf"],
        [
            "docker/postgres/initdb/10-agentdb-settings.sh",
            "/docker-entrypoint-initdb.d/10-agentdb-settings.sh",
        ],
    ]
    assert ("ENV", "AGENTDB_CONF=/etc/postgresql/agentdb.conf") in instructions
    assert os.access(INIT_SCRIPT, os.X_OK)


def test_conf_settings() -> None:
    settings = _settings(CONF.read_text())
    assert settings == {
        "shared_preload_libraries": "pg_cron,pg_stat_statements,auto_explain",
        "cron.use_background_workers": "on",
        "cron.timezone": "UTC",
        "max_worker_processes": "20",
        "pg_stat_statements.max": "10000",
        "pg_stat_statements.track": "top",
        "track_io_timing": "on",
        "auto_explain.log_min_duration": "500ms",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_analyze": "off",
        "auto_explain.log_format": "text",
    }


def _run_init_script(
    pgdata: Path, env: dict[str, str], conf: Path = CONF
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PGDATA": str(pgdata), "AGENTDB_CONF": str(conf)}
    return subprocess.run(
        ["bash", str(INIT_SCRIPT)], env=base | env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("env", "database"),
    [
        ({"AGENTDB_CRON_DATABASE": "platform", "POSTGRES_DB": "other"}, "platform"),
        ({"POSTGRES_DB": "app_db"}, "app_db"),
        ({}, "postgres"),
    ],
)
def test_init_script_writes_the_settings(
    tmp_path: Path, env: dict[str, str], database: str
) -> None:
    (tmp_path / "postgresql.conf").write_text("port = 5432\n")
    result = _run_init_script(tmp_path, env)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "postgresql.conf").read_text()
    assert written.startswith("port = 5432\n")
    assert written.splitlines()[-2:] == [
        f"include '{CONF}'",
        f"cron.database_name = '{database}'",
    ]


@pytest.mark.parametrize("bad", ["it's", "a b", "x\\y", "a" * 64])
def test_init_script_refuses_a_bad_database_name(tmp_path: Path, bad: str) -> None:
    (tmp_path / "postgresql.conf").write_text("")
    result = _run_init_script(tmp_path, {"AGENTDB_CRON_DATABASE": bad})
    assert result.returncode == 1
    assert "AGENTDB_CRON_DATABASE must be a plain database name" in result.stderr
    assert (tmp_path / "postgresql.conf").read_text() == ""


@pytest.fixture
def image_like_server() -> Iterator[tuple[str, Path]]:
    """initdb, the init script (cron database 'platform'), then start the server on the result."""
    bindir = find_bindir()
    basedir = Path(tempfile.mkdtemp(prefix="pyglue-docker-"))
    datadir = basedir / "data"
    if os.geteuid() == 0:
        user = _ensure_os_user(SERVER_USER)
        os.chown(basedir, user.pw_uid, user.pw_gid)

    def as_server(*args: str) -> None:
        run_as_server_user(list(args), cwd=basedir)

    as_server(
        str(bindir / "initdb"), "-D", str(datadir), "-U", SUPERUSER, "--auth=trust", "--no-sync"
    )
    # as the Dockerfile COPYs it to /etc/postgresql: readable by the server
    # user, which may not enter a private checkout
    conf = basedir / "agentdb.conf"
    shutil.copyfile(CONF, conf)
    conf.chmod(0o644)
    result = _run_init_script(datadir, {"AGENTDB_CRON_DATABASE": "platform"}, conf)
    assert result.returncode == 0, result.stderr
    port = _free_port()
    with (datadir / "postgresql.conf").open("a") as conf:
        # test-only: a private socket and port, logs to a file we can read
        conf.write(
            f"\nlisten_addresses = ''\nport = {port}\nunix_socket_directories = '{basedir}'\n"
            "logging_collector = off\nauto_explain.log_min_duration = '50ms'\n"
        )
    log = basedir / "server.log"
    as_server(str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(log), "-w", "start")
    try:
        yield f"host={basedir} port={port} user={SUPERUSER}", log
    finally:
        as_server(str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(basedir, ignore_errors=True)


def test_server_starts_with_the_image_settings(image_like_server: tuple[str, Path]) -> None:
    conninfo, log = image_like_server
    with psycopg.connect(f"{conninfo} dbname=postgres", autocommit=True) as conn:
        show = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in (
                "shared_preload_libraries",
                "cron.database_name",
                "cron.use_background_workers",
                "auto_explain.log_nested_statements",
                "pg_stat_statements.track",
            )
        }
        assert show == {
            "shared_preload_libraries": "pg_cron,pg_stat_statements,auto_explain",
            "cron.database_name": "platform",
            "cron.use_background_workers": "on",
            "auto_explain.log_nested_statements": "on",
            "pg_stat_statements.track": "top",
        }
        conn.execute("CREATE DATABASE platform")
        with pytest.raises(psycopg.Error, match="can only create extension in database platform"):
            conn.execute("CREATE EXTENSION pg_cron")
    with psycopg.connect(f"{conninfo} dbname=platform", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_cron")
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("SELECT pg_sleep(0.2)")
        assert conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()[0] > 0  # type: ignore[index]
    logged = log.read_text()
    assert "plan:" in logged
    assert "Query Text: SELECT pg_sleep(0.2)" in logged
