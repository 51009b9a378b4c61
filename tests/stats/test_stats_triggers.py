"""The stats triggers on named scenarios: exact rollup rows after each kind of write."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from factories import add_agent, add_user, add_workflow
from psycopg.rows import dict_row
from stats_expected import dsn, fold_stats, utc_today

USER = uuid.UUID(int=1)
OTHER_USER = uuid.UUID(int=2)
AGENT = uuid.UUID(int=11)
AGENT_2 = uuid.UUID(int=12)
OTHER_AGENT = uuid.UUID(int=21)
WORKFLOW = uuid.UUID(int=31)

COUNTERS = (
    "execution_count, success_count, failed_count, cancelled_count, duration_count, "
    "total_duration_ms, avg_duration_ms, min_duration_ms, max_duration_ms"
)
USAGE = "total_tokens, total_llm_calls, total_cost"
# what the *_stats_now reads return: the counters but the stored avg_duration_ms column
NOW_COUNTERS = COUNTERS.replace("avg_duration_ms, ", "")


@pytest.fixture
def conn(head_url: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with psycopg.connect(dsn(head_url), autocommit=True, row_factory=dict_row) as c:
        add_user(c, USER)
        add_user(c, OTHER_USER)
        add_agent(c, USER, AGENT, name="a1")
        add_agent(c, USER, AGENT_2, name="a2")
        add_agent(c, OTHER_USER, OTHER_AGENT, name="b1")
        add_workflow(c, USER, WORKFLOW, name="w")
        yield c


def _folded_row(conn: psycopg.Connection[dict[str, Any]], pending_sql: str, rollup_sql: str,
                params: tuple[Any, ...]) -> dict[str, Any] | None:  # fmt: skip
    """The rollup row after a fold, checked equal to what reads saw before it (rollup + deltas)."""
    before = conn.execute(pending_sql, params).fetchone()
    fold_stats(conn)
    row = conn.execute(rollup_sql, params).fetchone()
    stored = None if row is None else {k: v for k, v in row.items() if k != "avg_duration_ms"}
    assert stored == before
    return row


def agent_row(conn: psycopg.Connection[dict[str, Any]], day: date, agent: uuid.UUID = AGENT,
              user: uuid.UUID = USER) -> dict[str, Any] | None:  # fmt: skip
    return _folded_row(
        conn,
        f"SELECT {NOW_COUNTERS}, {USAGE} FROM agentdb.agent_stats_now(%s, %s, %s) n "
        "WHERE agent_id = %s AND EXISTS (SELECT FROM agents a WHERE a.id = n.agent_id)",
        f"SELECT {COUNTERS}, {USAGE} FROM agent_execution_stats "
        "WHERE user_id = %s AND date = %s AND date = %s AND agent_id = %s",
        (user, day, day, agent),
    )


def user_row(
    conn: psycopg.Connection[dict[str, Any]], day: date, user: uuid.UUID = USER
) -> dict[str, Any] | None:
    return _folded_row(
        conn,
        f"SELECT {NOW_COUNTERS}, {USAGE} FROM agentdb.user_stats_now(%s, %s, %s)",
        f"SELECT {COUNTERS}, {USAGE} FROM user_execution_stats "
        "WHERE user_id = %s AND date = %s AND date = %s",
        (user, day, day),
    )


def insert(conn: psycopg.Connection[dict[str, Any]], started_at: datetime, status: str = "pending",
           duration: int | None = None, agent: uuid.UUID = AGENT,
           user: uuid.UUID = USER) -> uuid.UUID:  # fmt: skip
    execution_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO agent_executions (id, agent_id, user_id, status, started_at, duration_ms) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (execution_id, agent, user, status, started_at, duration),
    )
    return execution_id


def finish(conn: psycopg.Connection[dict[str, Any]], execution_id: uuid.UUID, status: str,
           duration: int | None) -> None:  # fmt: skip
    conn.execute(
        "UPDATE agent_executions SET status = %s, duration_ms = %s, "
        "completed_at = timezone('utc', now()) WHERE id = %s",
        (status, duration, execution_id),
    )


def counters(execution_count: int = 0, success: int = 0, failed: int = 0, cancelled: int = 0,
             durations: tuple[int, ...] = (), tokens: int = 0, calls: int = 0,
             cost: str = "0") -> dict[str, Any]:  # fmt: skip
    total = sum(durations)
    return {
        "execution_count": execution_count,
        "success_count": success,
        "failed_count": failed,
        "cancelled_count": cancelled,
        "duration_count": len(durations),
        "total_duration_ms": total,
        "avg_duration_ms": round(Decimal(total) / len(durations)) if durations else None,
        "min_duration_ms": min(durations) if durations else None,
        "max_duration_ms": max(durations) if durations else None,
        "total_tokens": tokens,
        "total_llm_calls": calls,
        "total_cost": Decimal(cost),
    }


def assert_exact(conn: psycopg.Connection[dict[str, Any]]) -> None:
    diffs = conn.execute(
        "SELECT * FROM agentdb.verify_execution_stats('2000-01-01', '2100-01-01')"
    ).fetchall()
    assert diffs == []


def test_pending_then_running_then_completed_counts_once(
    conn: psycopg.Connection[dict[str, Any]],
) -> None:
    today = utc_today(conn)
    noon = datetime.combine(today, datetime.min.time()) + timedelta(hours=12)
    run = insert(conn, noon)
    assert agent_row(conn, today) == counters(1)
    conn.execute("UPDATE agent_executions SET status = 'running' WHERE id = %s", (run,))
    assert agent_row(conn, today) == counters(1)
    finish(conn, run, "completed", 1200)
    assert agent_row(conn, today) == counters(1, success=1, durations=(1200,))
    assert user_row(conn, today) == counters(1, success=1, durations=(1200,))
    assert_exact(conn)


def test_status_back_and_forth_and_min_max_recomputed(
    conn: psycopg.Connection[dict[str, Any]],
) -> None:
    today = utc_today(conn)
    at = datetime.combine(today, datetime.min.time())
    fast = insert(conn, at, "completed", 100)
    slow = insert(conn, at, "running", agent=AGENT_2)
    finish(conn, slow, "failed", 900)
    assert user_row(conn, today) == counters(2, success=1, failed=1, durations=(100, 900))
    # the failed run is retried in place: back to running, its duration cleared
    finish(conn, slow, "running", None)
    assert agent_row(conn, today, AGENT_2) == counters(1)
    assert user_row(conn, today) == counters(2, success=1, durations=(100,))
    finish(conn, slow, "cancelled", 50)
    finish(conn, fast, "failed", 100)
    assert user_row(conn, today) == counters(2, failed=1, cancelled=1, durations=(100, 50))
    # the minimum goes away: recomputed, not left stale
    finish(conn, slow, "completed", 400)
    assert user_row(conn, today) == counters(2, success=1, failed=1, durations=(100, 400))
    assert_exact(conn)


def test_run_counts_on_the_utc_day_it_started(conn: psycopg.Connection[dict[str, Any]]) -> None:
    today = utc_today(conn)
    yesterday = today - timedelta(days=1)
    last_microsecond = datetime.combine(today, datetime.min.time()) - timedelta(microseconds=1)
    run = insert(conn, last_microsecond, "running")
    finish(conn, run, "completed", 5000)  # completed after midnight
    assert agent_row(conn, yesterday) == counters(1, success=1, durations=(5000,))
    assert agent_row(conn, today) is None
    assert_exact(conn)


def test_session_time_zone_does_not_change_the_day(
    conn: psycopg.Connection[dict[str, Any]],
) -> None:
    today = utc_today(conn)
    conn.execute("SET TimeZone = 'Pacific/Kiritimati'")  # UTC+14
    at = datetime.combine(today, datetime.min.time()) + timedelta(hours=1)
    insert(conn, at, "completed", 10)
    conn.execute("SET TimeZone = 'Etc/GMT+12'")  # UTC-12
    assert agent_row(conn, today) == counters(1, success=1, durations=(10,))
    assert_exact(conn)


def test_metrics_written_late_count_on_the_start_day(
    conn: psycopg.Connection[dict[str, Any]],
) -> None:
    today = utc_today(conn)
    yesterday = today - timedelta(days=1)
    run = insert(conn, datetime.combine(yesterday, datetime.min.time()), "completed", 10)
    conn.execute(
        "INSERT INTO execution_metrics"
        " (execution_id, started_at, llm_call_count, total_tokens, cost) "
        "SELECT id, started_at, 3, 1500, 0.012345 FROM agent_executions WHERE id = %s",
        (run,),
    )
    assert agent_row(conn, yesterday) == counters(
        1, success=1, durations=(10,), tokens=1500, calls=3, cost="0.012345"
    )
    conn.execute(
        "UPDATE execution_metrics SET total_tokens = 2000, llm_call_count = 4, cost = 0.02 "
        "WHERE execution_id = %s",
        (run,),
    )
    assert user_row(conn, yesterday) == counters(
        1, success=1, durations=(10,), tokens=2000, calls=4, cost="0.02"
    )
    # metrics deleted while the execution stays: the usage goes too
    conn.execute("DELETE FROM execution_metrics WHERE execution_id = %s", (run,))
    assert agent_row(conn, yesterday) == counters(1, success=1, durations=(10,))
    assert_exact(conn)


def test_moving_a_run_moves_its_whole_contribution(
    conn: psycopg.Connection[dict[str, Any]],
) -> None:
    today = utc_today(conn)
    yesterday = today - timedelta(days=1)
    run = insert(conn, datetime.combine(today, datetime.min.time()), "completed", 700)
    conn.execute(
        "INSERT INTO execution_metrics"
        " (execution_id, started_at, llm_call_count, total_tokens, cost) "
        "SELECT id, started_at, 1, 10, 1.5 FROM agent_executions WHERE id = %s",
        (run,),
    )
    conn.execute(
        "UPDATE agent_executions SET started_at = started_at - interval '1 second' WHERE id = %s",
        (run,),
    )
    moved = counters(1, success=1, durations=(700,), tokens=10, calls=1, cost="1.5")
    assert agent_row(conn, yesterday) == moved
    assert agent_row(conn, today) == counters()  # emptied, kept as zeros
    conn.execute(
        "UPDATE agent_executions SET agent_id = %s, user_id = %s WHERE id = %s",
        (OTHER_AGENT, OTHER_USER, run),
    )
    assert agent_row(conn, yesterday, OTHER_AGENT, OTHER_USER) == moved
    assert user_row(conn, yesterday, OTHER_USER) == moved
    assert user_row(conn, yesterday) == counters()
    assert_exact(conn)


def test_deleting_raw_executions_keeps_history(conn: psycopg.Connection[dict[str, Any]]) -> None:
    today = utc_today(conn)
    at = datetime.combine(today, datetime.min.time())
    runs = [insert(conn, at, "completed", 100 * (i + 1)) for i in range(3)]
    for run in runs:
        conn.execute(
            "INSERT INTO execution_metrics"
            " (execution_id, started_at, llm_call_count, total_tokens, cost) "
            "SELECT id, started_at, 1, 100, 0.5 FROM agent_executions WHERE id = %s",
            (run,),
        )
    before = agent_row(conn, today)
    assert before == counters(
        3, success=3, durations=(100, 200, 300), tokens=300, calls=3, cost="1.5"
    )
    # retention: the executions go, their metrics with them by ON DELETE CASCADE
    conn.execute("DELETE FROM agent_executions WHERE id = ANY(%s)", (runs[:2],))
    assert conn.execute("SELECT count(*) AS n FROM execution_metrics").fetchone() == {"n": 1}
    assert agent_row(conn, today) == before
    assert user_row(conn, today) == before
    # verify reports the pruned day (history kept); refresh would rebuild from survivors
    diffs = conn.execute(
        "SELECT stats_table FROM agentdb.verify_execution_stats(%s, %s)", (today, today)
    ).fetchall()
    assert [d["stats_table"] for d in diffs] == ["agent_execution_stats", "user_execution_stats"]


def test_workflow_executions_rolled_up(conn: psycopg.Connection[dict[str, Any]]) -> None:
    today = utc_today(conn)
    at = datetime.combine(today, datetime.min.time())
    ids = []
    for status in ("pending", "running", "completed"):
        row = conn.execute(
            "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            (WORKFLOW, USER, status, at),
        ).fetchone()
        assert row is not None
        ids.append(row["id"])
    conn.execute(
        "UPDATE workflow_executions SET status = 'failed', duration_ms = 30 WHERE id = %s",
        (ids[0],),
    )
    conn.execute(
        "UPDATE workflow_executions SET status = 'completed', duration_ms = 90 WHERE id = %s",
        (ids[1],),
    )
    conn.execute(
        "UPDATE workflow_executions SET started_at = started_at - interval '1 day' WHERE id = %s",
        (ids[2],),
    )
    fold_stats(conn)
    row = conn.execute(
        f"SELECT {COUNTERS} FROM workflow_execution_stats WHERE workflow_id = %s AND date = %s",
        (WORKFLOW, today),
    ).fetchone()
    expected = counters(2, success=1, failed=1, durations=(30, 90))
    assert row == {k: v for k, v in expected.items() if k not in USAGE}
    conn.execute("DELETE FROM workflow_executions")
    fold_stats(conn)
    assert conn.execute(
        "SELECT sum(execution_count) AS n FROM workflow_execution_stats"
    ).fetchone() == {"n": 3}


def test_multi_row_statements_and_irrelevant_updates(
    conn: psycopg.Connection[dict[str, Any]],
) -> None:
    today = utc_today(conn)
    conn.execute(
        "INSERT INTO agent_executions (agent_id, user_id, status, started_at) "
        "SELECT %s, %s, 'running', %s - g * interval '1 hour' FROM generate_series(0, 47) g",
        (AGENT, USER, datetime.combine(today, datetime.min.time()) + timedelta(hours=23)),
    )
    conn.execute(
        "UPDATE agent_executions SET status = 'completed', duration_ms = 10, "
        "output_data = '{\"ok\": true}'"
    )
    conn.execute("UPDATE agent_executions SET error_message = 'none'")
    assert agent_row(conn, today) == counters(24, success=24, durations=(10,) * 24)
    assert agent_row(conn, today - timedelta(days=1)) == counters(
        24, success=24, durations=(10,) * 24
    )
    assert_exact(conn)


def test_deleting_an_agent_deletes_its_rollup_rows(
    conn: psycopg.Connection[dict[str, Any]],
) -> None:
    today = utc_today(conn)
    insert(conn, datetime.combine(today, datetime.min.time()), "completed", 5, agent=AGENT_2)
    conn.execute("DELETE FROM agents WHERE id = %s", (AGENT_2,))
    assert agent_row(conn, today, AGENT_2) is None
    # the user's history keeps the run (like retention)
    assert user_row(conn, today) == counters(1, success=1, durations=(5,))
