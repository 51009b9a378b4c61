"""Issue 13, part 1: the execution history partitioned by month keeps the platform's contract.

Runs and metrics land in their month's partition, a run moved to another
month takes its metrics and its statistics along, and the workflow-run
reference a partitioned table cannot declare is kept by triggers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from factories import add_agent, add_user, add_workflow

from pyglue.dburl import connect

USER = uuid.UUID(int=1)
AGENT = uuid.UUID(int=11)
WORKFLOW = uuid.UUID(int=31)


@pytest.fixture
def conn(head_url: str) -> Any:
    with connect(head_url, autocommit=True) as c:
        c.execute("SET timezone = 'UTC'")
        add_user(c, USER)
        add_agent(c, USER, AGENT, name="a")
        add_workflow(c, USER, WORKFLOW, name="w")
        yield c


def month(c: psycopg.Connection[Any], offset: int) -> datetime:
    row = c.execute(
        "SELECT date_trunc('month', timezone('UTC', now())) + make_interval(months => %s)",
        (offset,),
    ).fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def partition_of(c: psycopg.Connection[Any], table: str, key: str, value: uuid.UUID) -> str:
    row = c.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE {key} = %s", (value,))
    found = row.fetchone()
    assert found is not None
    return str(found[0])


def recount_differences(c: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return c.execute(
        "SELECT stats_table, day FROM agentdb.verify_execution_stats('2000-01-01', '2100-01-01')"
    ).fetchall()


def test_a_run_moved_to_another_month_takes_its_metrics_and_stats(conn: Any) -> None:
    this_month, next_month = month(conn, 0), month(conn, 1)
    run = uuid.uuid4()
    conn.execute(
        "INSERT INTO agent_executions (id, agent_id, user_id, status, started_at, duration_ms)"
        " VALUES (%s, %s, %s, 'completed', %s, 120)",
        (run, AGENT, USER, this_month + timedelta(hours=5)),
    )
    conn.execute(
        "INSERT INTO execution_metrics (execution_id, started_at, llm_call_count, total_tokens)"
        " SELECT id, started_at, 2, 300 FROM agent_executions WHERE id = %s",
        (run,),
    )
    suffix = f"_p{next_month:%Y_%m}"
    conn.execute(
        "UPDATE agent_executions SET started_at = %s WHERE id = %s",
        (next_month + timedelta(hours=7), run),
    )
    assert partition_of(conn, "agent_executions", "id", run) == "agent_executions" + suffix
    assert partition_of(conn, "execution_metrics", "execution_id", run) == (
        "execution_metrics" + suffix
    )
    assert recount_differences(conn) == []
    days = conn.execute(
        "SELECT day, execution_count, total_tokens FROM agentdb.agent_stats_now(%s, %s, %s)"
        " ORDER BY day",
        (USER, this_month.date(), next_month.date()),
    ).fetchall()
    assert [d for d in days if d[1] or d[2]] == [(next_month.date(), 1, 300)]


def test_a_run_older_than_every_month_lands_in_the_default_partition(conn: Any) -> None:
    run = uuid.uuid4()
    conn.execute(
        "INSERT INTO agent_executions (id, agent_id, user_id, status, started_at)"
        " VALUES (%s, %s, %s, 'completed', '2020-01-15 10:00')",
        (run, AGENT, USER),
    )
    assert partition_of(conn, "agent_executions", "id", run) == "agent_executions_default"
    # nothing was dropped: no day is outside what verify compares
    assert conn.execute("SELECT agentdb.retention_horizon()").fetchone() == (None,)
    assert recount_differences(conn) == []


def test_an_unknown_workflow_run_is_refused_like_the_foreign_key_did(conn: Any) -> None:
    missing = uuid.uuid4()
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as raised:
        conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id, workflow_execution_id)"
            " VALUES (%s, %s, %s)",
            (AGENT, USER, missing),
        )
    assert raised.value.diag.constraint_name == (
        "fk_agent_executions_workflow_execution_id_workflow_executions"
    )
    assert raised.value.diag.message_detail == (
        f'Key (workflow_execution_id)=({missing}) is not present in table "workflow_executions".'
    )


def test_deleting_a_workflow_run_clears_its_agent_runs_and_moving_it_does_not(conn: Any) -> None:
    kept, deleted = uuid.uuid4(), uuid.uuid4()
    for workflow_run in (kept, deleted):
        conn.execute(
            "INSERT INTO workflow_executions (id, workflow_id, user_id) VALUES (%s, %s, %s)",
            (workflow_run, WORKFLOW, USER),
        )
        conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id, workflow_execution_id)"
            " VALUES (%s, %s, %s)",
            (AGENT, USER, workflow_run),
        )
    conn.execute(
        "UPDATE workflow_executions SET started_at = started_at + interval '1 month' WHERE id = %s",
        (kept,),
    )
    conn.execute("DELETE FROM workflow_executions WHERE id = %s", (deleted,))
    references = conn.execute(
        "SELECT workflow_execution_id FROM agent_executions ORDER BY workflow_execution_id"
    ).fetchall()
    assert references == [(kept,), (None,)]
