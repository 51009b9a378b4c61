"""`pyglue status`: the monitoring block (last runs, pg_cron jobs, top statements)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pyglue import cli
from pyglue.dburl import create_engine_for
from pyglue.testing import PostgresCluster


def _status(url: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert cli.main(["status", "--database-url", url]) == 0
    out = capsys.readouterr().out.splitlines()
    return out[out.index("last maintenance runs:") :]


def test_status_block_on_a_fresh_database(
    head_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _status(head_url, capsys) == [
        "last maintenance runs:",
        "  (none yet)",
        "pg_cron jobs:",
        "  (pg_cron is not installed in this database)",
        "top statements (pg_stat_statements, by total time):",
        "  (no statements (is pg_stat_statements installed in this database?))",
    ]


def test_status_block_shows_runs_and_top_statements(
    head_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine_for(head_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION pg_stat_statements"))
        conn.execute(text("SELECT * FROM agentdb.purge_slow_queries()"))
    engine.dispose()
    lines = _status(head_url, capsys)
    assert lines[0] == "last maintenance runs:"
    assert "  agentdb-purge-slow-queries       succeeded " in lines[1]
    assert lines[2:4] == ["pg_cron jobs:", "  (pg_cron is not installed in this database)"]
    assert lines[4] == "top statements (pg_stat_statements, by total time):"
    assert 1 <= len(lines[5:]) <= 5
    assert all(" calls " in line and " ms/call  " in line for line in lines[5:])


def test_status_block_before_agentdb_is_installed(
    empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _status(empty_url, capsys) == [
        "last maintenance runs:",
        "  (agentdb is not installed)",
        "pg_cron jobs:",
        "  (pg_cron is not installed in this database)",
        "top statements (pg_stat_statements, by total time):",
        "  (agentdb.perf_stats() is not installed)",
    ]


def test_status_block_lists_pg_cron_jobs(
    pg_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    # pg_cron lives in the cluster's cron database only; leave it as found
    database = pg_cluster.cron_database
    with pg_cluster.connect(database) as conn:
        had_cron = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone()
        if not had_cron:
            conn.execute("CREATE EXTENSION pg_cron")
        conn.execute("SELECT cron.schedule('pyglue-status-probe', '0 3 * * *', 'SELECT 1')")
    try:
        lines = _status(pg_cluster.url(database), capsys)
        cron = lines[
            lines.index("pg_cron jobs:") + 1 : lines.index(
                "top statements (pg_stat_statements, by total time):"
            )
        ]
        probe = [line for line in cron if "pyglue-status-probe" in line]
        assert probe == [f"  {'pyglue-status-probe':<32} {'0 3 * * *':<14} active   not run yet"]
    finally:
        with pg_cluster.connect(database) as conn:
            conn.execute("SELECT cron.unschedule('pyglue-status-probe')")
            if not had_cron:
                conn.execute("DROP EXTENSION pg_cron")
