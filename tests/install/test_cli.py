"""`pyglue install|status`: exit codes and the one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.errors import ConfigurationError

BASELINE_SQL = (
    Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0001" / "baseline.sql"
)


def pyglue(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyglue.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_install_is_idempotent_and_status_reports_head(empty_url: str) -> None:
    first = pyglue("install", "--database-url", empty_url)
    assert first.returncode == 0, first.stderr
    second = pyglue("install", "--database-url", empty_url.replace("+psycopg", ""))
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout
    status = pyglue("status", "--database-url", empty_url)
    assert status.returncode == 0, status.stderr
    assert "pending revisions: none" in status.stdout
    assert "agent_executions" in status.stdout
    assert "pg_stat_statements: available" in status.stdout


def test_adopt_stamps_an_existing_platform_schema(empty_url: str) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(empty_url)), autocommit=True) as conn:
        conn.execute(BASELINE_SQL.read_text())
        conn.execute("INSERT INTO users (email) VALUES ('existing@example.com')")
    result = pyglue("install", "--adopt", "--database-url", empty_url)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(libpq_dsn(resolve_url(empty_url))) as conn:
        assert conn.execute("SELECT email FROM users").fetchall() == [("existing@example.com",)]
        assert conn.execute(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'agents' AND column_name = 'configuration'"
        ).fetchone() == ("jsonb",)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "--database-url", "postgresql://nobody@127.0.0.1:1/nowhere"],
         "pyglue: cannot reach the database: "),
        (["status", "--database-url", "mysql://root@localhost/db"],
         "pyglue: unsupported URL scheme 'mysql': use postgresql:// or postgresql+psycopg://"),
        (["status"], "pyglue: no database: pass --database-url URL or set DATABASE_URL"),
    ],
    ids=["unreachable", "wrong-scheme", "missing"],
)  # fmt: skip
def test_bad_database_url_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = pyglue(*args, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_unknown_revision_in_the_database_is_refused(head_url: str) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(head_url)), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00d'")
    result = pyglue("install", "--database-url", head_url)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "pyglue: the database is at revision 'f00d', which this agentdb"
    )
    assert result.stderr.count("\n") == 1


def test_unknown_target_revision_is_refused(empty_url: str) -> None:
    result = pyglue("install", "--revision", "nope", "--database-url", empty_url)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "pyglue: unknown revision 'nope': use head, baseline or one of "
    )


@pytest.mark.parametrize("version_num", [140011, 130000, 90624])
def test_servers_older_than_15_are_refused(version_num: int) -> None:
    with pytest.raises(ConfigurationError) as error:
        install.require_supported_server(version_num)
    major = version_num // 10000
    assert str(error.value) == (
        f"PostgreSQL {major} is too old: agentdb needs PostgreSQL 15 or newer"
    )
    install.require_supported_server(150000)
