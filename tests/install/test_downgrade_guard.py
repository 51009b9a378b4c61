"""Issue 12, data safety 3: nothing goes below the baseline unless asked, and a downgrade says
what it drops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[2]
LOSSES_AT_HEAD = (
    "the slow-query log (0 rows); "
    "the execution-stats rollups (0 rows, 0 days of them not rebuildable: "
    "their raw executions are gone); "
    "the memory policies (1 custom, and any edit of the defaults); "
    "the run log (1 runs in agentdb.maintenance_runs)"
)


def pyglue(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyglue.cli", *args],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


@pytest.fixture
def used_head(head_url: str) -> str:
    """A database at head with one user, one custom policy and one run."""
    with psycopg.connect(libpq_dsn(resolve_url(head_url)), autocommit=True) as conn:
        conn.execute("INSERT INTO users (email) VALUES ('kept@example.com')")
        conn.execute(
            "INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance,"
            " age_basis, max_age) VALUES ('episodic_medium', 'episodic', 'medium', 'created',"
            " interval '60 days')"
        )
        conn.execute("SELECT agentdb.finish_run(agentdb.begin_run('job'), 'succeeded')")
    return head_url


def platform_tables(url: str) -> int:
    with psycopg.connect(libpq_dsn(resolve_url(url))) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
            [list(install.PLATFORM_TABLES)],
        ).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_downgrade_below_the_baseline_is_refused_unless_asked(used_head: str) -> None:
    engine = create_engine(used_head)
    try:
        with pytest.raises(ConfigurationError) as refused:
            install.downgrade(engine, "base")
        assert str(refused.value) == (
            f"downgrading to base drops {LOSSES_AT_HEAD}; the platform's 12 tables and every "
            "row in them (1 users): pass --drop-platform-tables (drop_platform_tables=True) to "
            "do it"
        )
        with engine.connect() as conn:
            assert install.current_revision(conn) == install.head_revision()
        assert platform_tables(used_head) == 12
        assert install.downgrade(engine, install.BASELINE) == LOSSES_AT_HEAD.split("; ")
        assert install.downgrade(engine, "base", drop_platform_tables=True) == [
            "the platform's 12 tables and every row in them (1 users)"
        ]
        assert platform_tables(used_head) == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", ["0001", "baseline", "base", "0004"])
def test_install_to_an_older_revision_is_refused_in_one_line(used_head: str, revision: str) -> None:
    result = pyglue("install", "--revision", revision, "--database-url", used_head)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"pyglue: the database is at {install.head_revision()}, above {revision}: reaching it "
        "means undoing "
    )
    assert result.stderr.endswith("; pass --downgrade to do that\n")
    assert result.stderr.count("\n") == 1


def test_install_downgrade_does_what_it_says_and_base_needs_one_more_flag(
    used_head: str,
) -> None:
    result = pyglue("install", "--revision", "base", "--downgrade", "--database-url", used_head)
    assert result.returncode == 2
    assert result.stderr.startswith("pyglue: downgrading to base drops ")
    assert result.stderr.endswith(
        "pass --drop-platform-tables (drop_platform_tables=True) to do it\n"
    )
    result = pyglue("install", "--revision", "0001", "--downgrade", "--database-url", used_head)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"database at revision 0001\ndropped: {LOSSES_AT_HEAD}\n"
    result = pyglue(
        "install", "--revision", "base", "--downgrade", "--drop-platform-tables",
        "--database-url", used_head,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "database at revision base\n"
        "dropped: the platform's 12 tables and every row in them (1 users)\n"
    )
    assert platform_tables(used_head) == 0


def test_alembic_downgrade_base_with_the_shipped_ini_keeps_the_platform(used_head: str) -> None:
    env = {**os.environ, "DATABASE_URL": used_head}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), "downgrade", "base"],
        capture_output=True, text=True, check=False, timeout=300, cwd=REPO, env=env,
    )  # fmt: skip
    assert result.returncode != 0
    assert "refusing to downgrade below the baseline" in result.stdout + result.stderr
    assert platform_tables(used_head) == 12
    with create_engine(used_head).connect() as conn:
        assert conn.execute(text("SELECT email FROM users")).scalars().all() == ["kept@example.com"]
