"""`pyglue stats check|verify|refresh` on a real database."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import psycopg
import pytest
from factories import add_agent, add_user
from stats_expected import dsn, fold_stats, utc_today

from pyglue.cli import main

USER = uuid.UUID(int=1)
AGENT = uuid.UUID(int=11)


def test_stats_commands(head_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(dsn(head_url), autocommit=True) as conn:
        add_user(conn, USER)
        add_agent(conn, USER, AGENT, name="a")
        yesterday = utc_today(conn) - timedelta(days=1)
        conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id, status, started_at) "
            "VALUES (%s, %s, 'completed', %s)",
            (AGENT, USER, datetime.combine(yesterday, datetime.min.time())),
        )
        fold_stats(conn)
        conn.execute("UPDATE user_execution_stats SET success_count = 7")
    day = yesterday.isoformat()
    url = ["--database-url", head_url]

    assert main(["stats", "verify", "--from", day, "--to", day, *url]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"user_execution_stats user {USER} - {day}: stored {{")
    assert out[-1] == "1 differing rows"

    assert main(["stats", "check", *url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"succeeded: {day}: 2 rows checked, 1 differing, 1 repaired (run ")

    assert main(["stats", "refresh", "--from", day, "--to", day, *url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "agent_execution_stats: 0 rows deleted, 0 written",
        "user_execution_stats: 0 rows deleted, 0 written",
        "workflow_execution_stats: 0 rows deleted, 0 written",
    ]
    assert main(["stats", "verify", "--from", day, "--to", day, *url]) == 0
    assert capsys.readouterr().out.splitlines() == ["0 differing rows"]

    assert main(["stats", "refresh", "--from", day, "--to", "2000-01-01", *url]) == 2
    assert capsys.readouterr().err.startswith(f"pyglue: p_from ({day}) must not be after p_to")
