"""Issue 12, item 8: one line on stderr and exit 2 for each case the issue lists."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.errors import DatabaseError, DatabaseUnreachable
from pyglue.routines import APP_ROLE, call
from pyglue.testing import PostgresCluster

UNKNOWN = "use head, baseline or one of "


def pyglue(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyglue.cli", *args],
        capture_output=True, text=True, check=False, timeout=300,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def assert_one_line(result: subprocess.CompletedProcess[str], starts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"pyglue: {starts}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("revision", ["", "-1", "+1"])
def test_a_revision_that_is_not_one(head_url: str, revision: str) -> None:
    assert_one_line(
        pyglue("install", "--revision", revision, "--database-url", head_url),
        f"unknown revision {revision!r}: {UNKNOWN}",
    )


def test_a_url_with_a_port_that_is_not_a_number(pg_cluster: PostgresCluster) -> None:
    url = pg_cluster.url().replace(f":{pg_cluster.port}/", ":abc/")
    assert_one_line(pyglue("status", "--database-url", url), f"not a database URL: {url!r}")


def test_bench_against_an_unreachable_server() -> None:
    result = pyglue(
        "bench", "scenarios", "--database-url", "postgresql://nobody@127.0.0.1:1/nowhere"
    )
    assert_one_line(result, "cannot reach the database: ")


def test_stats_verify_without_agentdb(empty_url: str) -> None:
    result = pyglue(
        "stats", "verify", "--from", "2024-01-01", "--to", "2024-01-31", "--database-url", empty_url
    )
    assert_one_line(result, "agentdb.verify_execution_stats: ")
    assert result.stderr.endswith("(agentdb is not installed in this database, or is at an "
                                  "older revision: run pyglue install)\n")  # fmt: skip


@pytest.fixture
def weak_url(pg_cluster: PostgresCluster, empty_url: str) -> Iterator[str]:
    role = f"weak_{uuid.uuid4().hex[:8]}"
    with pg_cluster.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        yield empty_url.replace("postgres@", f"{role}@")
    finally:
        with pg_cluster.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_install_as_a_role_without_the_rights(weak_url: str) -> None:
    assert_one_line(
        pyglue("install", "--database-url", weak_url), "permission denied for schema public"
    )


def test_a_batch_size_beyond_an_integer(head_url: str) -> None:
    assert_one_line(
        pyglue("maintain", "memory", "--batch-size", "99999999999", "--database-url", head_url),
        "batch_size must be a 32-bit integer, not 99999999999",
    )


def test_every_adopt_failure(head_url: str, empty_url: str) -> None:
    assert_one_line(pyglue("install", "--adopt", "--database-url", empty_url), "cannot adopt: ")
    with psycopg.connect(libpq_dsn(resolve_url(head_url)), autocommit=True) as conn:
        conn.execute("DROP TABLE alembic_version")
    assert_one_line(
        pyglue("install", "--adopt", "--database-url", head_url),
        "cannot adopt: schema agentdb exists but no Alembic revision is recorded",
    )


@pytest.mark.parametrize("counts", ["[1, 2]", "3", '"x"'])
def test_finish_run_takes_only_an_object_as_counts(head_url: str, counts: str) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(head_url)), autocommit=True) as conn:
        row = conn.execute("SELECT agentdb.begin_run('job')").fetchone()
        assert row is not None
        with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
            conn.execute("SELECT agentdb.finish_run(%s, 'succeeded', %s::jsonb)", [row[0], counts])
        assert refused.value.diag.message_primary == f"p_counts must be a JSON object, not {counts}"


def test_temp_file_limit_is_what_the_server_said_not_unreachable(head_url: str) -> None:
    url = f"{head_url}?options=-c%20work_mem%3D64kB%20-c%20temp_file_limit%3D64kB"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with pytest.raises(DatabaseError) as failed:
            call(
                engine,
                "SELECT agentdb.workflow_document(gen_random_uuid())"
                " FROM generate_series(1, 200000) g ORDER BY md5(g::text)",
                routine="agentdb.workflow_document",
                role=APP_ROLE,
            )
    finally:
        engine.dispose()
    assert not isinstance(failed.value, DatabaseUnreachable)
    assert failed.value.sqlstate == "53400"
    assert str(failed.value).startswith(
        "agentdb.workflow_document: temporary file size exceeds temp_file_limit"
    )
