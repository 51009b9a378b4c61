"""`pyglue install --citus` without the citus extension: one line, exit 2, nothing changed."""

from __future__ import annotations

import psycopg
from dbcheck import schema_dump
from test_cli import pyglue

from pyglue.dburl import libpq_dsn, resolve_url


def test_install_citus_without_citus_changes_nothing_on_an_empty_database(
    empty_url: str,
) -> None:
    result = pyglue("install", "--citus", "--database-url", empty_url)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pyglue: cannot install for Citus: the citus extension is not ")
    with psycopg.connect(libpq_dsn(resolve_url(empty_url))) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        ).fetchone() == (0,)
        assert conn.execute("SELECT to_regnamespace('agentdb')").fetchone() == (None,)


def test_install_citus_without_citus_leaves_a_head_database_as_it_was(head_url: str) -> None:
    before = schema_dump(head_url)
    result = pyglue("install", "--citus", "--database-url", head_url)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "citus extension is not" in result.stderr
    assert schema_dump(head_url) == before
