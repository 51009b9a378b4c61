"""Issue 12, data safety 4: `pyglue install --adopt` checks what is there first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url

BASELINE_SQL = (
    Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0001" / "baseline.sql"
)


def adopt(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyglue.cli", "install", "--adopt", "--database-url", url],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def run(url: str, statement: str) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(url)), autocommit=True) as conn:
        conn.execute(statement.encode())


def revision(url: str) -> object:
    with psycopg.connect(libpq_dsn(resolve_url(url))) as conn:
        if conn.execute("SELECT to_regclass('public.alembic_version')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else row[0]


def test_adopt_twice_stamps_once_and_reaches_head(empty_url: str) -> None:
    run(empty_url, BASELINE_SQL.read_text())
    first = adopt(empty_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "stamped the existing schema as the baseline (0001)"
    second = adopt(empty_url)
    assert second.returncode == 0, second.stderr
    head = install.head_revision()
    assert second.stdout == (
        f"already adopted (the database records revision {head}): nothing to stamp\n"
        f"database at revision {head}\n"
    )
    assert revision(empty_url) == head


def test_adopt_on_a_database_at_head_changes_nothing(head_url: str) -> None:
    result = adopt(head_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("already adopted")
    assert revision(head_url) == install.head_revision()


@pytest.mark.parametrize(
    ("prepare", "found"),
    [
        ("", "none of the platform's 12 tables is in schema public: nothing to adopt "
             "(a new database needs pyglue install without --adopt)"),
        ("BASELINE; DROP TABLE agent_memories; DROP TABLE execution_metrics",
         "2 of the platform's 12 tables are missing from schema public "
         "(execution_metrics, agent_memories): this is not the baseline schema"),
        ("BASELINE; CREATE SCHEMA agentdb",
         "schema agentdb exists but no Alembic revision is recorded: agentdb was installed "
         "here without its revision table, so stamping the baseline would install it again"),
        ("BASELINE; ALTER TABLE agents ALTER COLUMN configuration DROP DEFAULT,"
         " ALTER COLUMN configuration TYPE jsonb",
         "agents.configuration is jsonb where the baseline has json: this is not the baseline "
         "schema"),
    ],
    ids=["empty", "partial", "agentdb-unstamped", "jsonb"],
)  # fmt: skip
def test_adopt_refuses_anything_but_the_baseline_in_one_line(
    empty_url: str, prepare: str, found: str
) -> None:
    if prepare:
        run(empty_url, prepare.replace("BASELINE", BASELINE_SQL.read_text()))
    result = adopt(empty_url)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"pyglue: cannot adopt: {found}\n"
    assert revision(empty_url) is None
