"""Issue 12, data safety 5: odd data is reported before an upgrade changes anything.

(The '-infinity' case made revision 0007's backfill enumerate months without
end on the code before this fix: do not run this file against it.)
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url

FIX = "see 'Odd data' in the README for the fix, then run pyglue install again"


def pyglue_install(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyglue.cli", "install", "--database-url", url],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def run(url: str, statement: str, params: list[object] | None = None) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(url)), autocommit=True) as conn:
        conn.execute(statement, params)


def revision(url: str) -> object:
    with psycopg.connect(libpq_dsn(resolve_url(url))) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else row[0]


def add_agent(url: str, configuration: str = "{}") -> None:
    run(
        url,
        "INSERT INTO users (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'u@x')",
    )
    run(
        url,
        "INSERT INTO agents (id, user_id, name, configuration) VALUES"
        " ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001',"
        " 'a', %s::json)",
        [configuration],
    )


@pytest.mark.parametrize("column", ["started_at", "completed_at"])
@pytest.mark.parametrize("value", ["-infinity", "infinity"])
def test_a_non_finite_timestamp_is_reported_before_0007_changes_anything(
    baseline_url: str, column: str, value: str
) -> None:
    add_agent(baseline_url)
    run(
        baseline_url,
        "INSERT INTO agent_executions (agent_id, user_id, status, started_at, completed_at)"
        " SELECT '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001',"
        " 'completed', '2024-03-01 10:00', '2024-03-01 10:01' FROM generate_series(1, 3)",
    )
    run(baseline_url, f"UPDATE agent_executions SET {column} = %s::timestamp", [value])
    result = pyglue_install(baseline_url)
    assert result.returncode == 2
    assert result.stderr == (
        f"pyglue: public.agent_executions.{column} has 3 rows with a non-finite timestamp "
        f"(infinity or -infinity), which no day can hold: {FIX}\n"
    )
    assert revision(baseline_url) == "0006"
    # the README's fix, then the install goes on
    run(
        baseline_url,
        "UPDATE agent_executions SET completed_at = NULL WHERE NOT isfinite(completed_at)",
    )
    run(
        baseline_url,
        "UPDATE agent_executions SET started_at = '2024-03-01 10:00'"
        " WHERE NOT isfinite(started_at)",
    )
    result = pyglue_install(baseline_url)
    assert result.returncode == 0, result.stderr
    assert revision(baseline_url) == install.head_revision()


@pytest.mark.parametrize(
    "configuration", ['{"prompt": "a\\u0000b"}', '{"prompt": "\\ud800"}'], ids=["nul", "surrogate"]
)
def test_json_that_jsonb_cannot_hold_is_reported_before_0003_changes_anything(
    baseline_url: str, configuration: str
) -> None:
    add_agent(baseline_url, configuration)
    result = pyglue_install(baseline_url)
    assert result.returncode == 2
    assert result.stderr == (
        "pyglue: public.agents.configuration has 1 rows whose json jsonb cannot hold "
        f"(\\u0000, or a lone surrogate escape): {FIX}\n"
    )
    assert revision(baseline_url) == "0002"
    with psycopg.connect(libpq_dsn(resolve_url(baseline_url))) as conn:
        kinds = conn.execute(
            "SELECT DISTINCT data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type LIKE 'json%'"
        ).fetchall()
    assert kinds == [("json",)]
    run(baseline_url, 'UPDATE agents SET configuration = \'{"prompt": "ab"}\'')
    result = pyglue_install(baseline_url)
    assert result.returncode == 0, result.stderr
    assert revision(baseline_url) == install.head_revision()


def test_escaped_backslashes_before_u0000_are_ordinary_text(baseline_url: str) -> None:
    add_agent(baseline_url, '{"path": "C:\\\\u0000"}')
    result = pyglue_install(baseline_url)
    assert result.returncode == 0, result.stderr
