"""16 connections completing runs of one agent at once: exact, no deadlock, no lost update."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from factories import add_agent, add_user
from stats_expected import fold_stats, utc_today

from pyglue.dburl import connect

WRITERS = 16
RUNS_PER_WRITER = 25
USER = uuid.UUID(int=1)
AGENT = uuid.UUID(int=11)
STATUSES = ("completed", "failed", "cancelled")


@pytest.mark.slow
def test_sixteen_writers_on_one_agent_end_exact(head_url: str) -> None:
    conninfo = head_url
    with connect(conninfo, autocommit=True) as setup:
        add_user(setup, USER)
        add_agent(setup, USER, AGENT, name="hot")
        today = utc_today(setup)
    # runs that started yesterday just before midnight and today: two hot rows per table
    starts = [
        datetime.combine(today, datetime.min.time()) - timedelta(microseconds=1),
        datetime.combine(today, datetime.min.time()),
    ]
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with connect(conninfo, autocommit=True) as conn:
                barrier.wait()
                for i in range(RUNS_PER_WRITER):
                    with conn.transaction():
                        row = conn.execute(
                            "INSERT INTO agent_executions (agent_id, user_id, status, started_at) "
                            "VALUES (%s, %s, 'running', %s) RETURNING id",
                            (AGENT, USER, starts[(n + i) % 2]),
                        ).fetchone()
                    assert row is not None
                    # complete and record usage in one transaction, like the platform
                    with conn.transaction():
                        conn.execute(
                            "UPDATE agent_executions SET status = %s, duration_ms = %s, "
                            "completed_at = timezone('utc', now()) WHERE id = %s",
                            (STATUSES[(n + i) % 3], n * 1000 + i, row[0]),
                        )
                        conn.execute(
                            "INSERT INTO execution_metrics "
                            "(execution_id, started_at, llm_call_count, total_tokens, cost) "
                            "SELECT id, started_at, %s, %s, %s FROM agent_executions WHERE id = %s",
                            (1, n + i, Decimal("0.000001") * (n + 1), row[0]),
                        )
        except BaseException as exc:  # a deadlock or any error fails the test below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert not any(t.is_alive() for t in threads)

    all_runs = [(n, i) for n in range(WRITERS) for i in range(RUNS_PER_WRITER)]
    with connect(conninfo, autocommit=True) as conn:
        fold_stats(conn)
        totals = conn.execute(
            "SELECT sum(execution_count), sum(success_count), sum(failed_count), "
            "sum(cancelled_count), sum(duration_count), sum(total_duration_ms), "
            "min(min_duration_ms), max(max_duration_ms), sum(total_tokens), "
            "sum(total_llm_calls), sum(total_cost) FROM agent_execution_stats"
        ).fetchone()
        user_totals = conn.execute(
            "SELECT sum(execution_count), sum(success_count), sum(failed_count), "
            "sum(cancelled_count), sum(duration_count), sum(total_duration_ms), "
            "min(min_duration_ms), max(max_duration_ms), sum(total_tokens), "
            "sum(total_llm_calls), sum(total_cost) FROM user_execution_stats"
        ).fetchone()
        diffs = conn.execute(
            "SELECT * FROM agentdb.verify_execution_stats(%s, %s)",
            (today - timedelta(days=1), today),
        ).fetchall()
    n_runs = WRITERS * RUNS_PER_WRITER
    assert totals == (
        n_runs,
        sum(1 for n, i in all_runs if (n + i) % 3 == 0),
        sum(1 for n, i in all_runs if (n + i) % 3 == 1),
        sum(1 for n, i in all_runs if (n + i) % 3 == 2),
        n_runs,
        sum(n * 1000 + i for n, i in all_runs),
        0,
        (WRITERS - 1) * 1000 + RUNS_PER_WRITER - 1,
        sum(n + i for n, i in all_runs),
        n_runs,
        sum(Decimal("0.000001") * (n + 1) for n, _ in all_runs),
    )
    assert user_totals == totals
    assert diffs == []
