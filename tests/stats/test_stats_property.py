"""Property: after any interleaving of writes, every read function equals the raw aggregation.

Random transactions of inserts (any status), status changes back and forth,
completions with durations, runs that started just before or after UTC
midnight, metrics written, rewritten and deleted late, and runs moved to
another day, agent or user, over three users and six agents. Afterwards
user_dashboard, user_daily_stats and agent_stats_summary equal the same
figures computed in Python from the raw rows (counts and sums exactly,
averages to the millisecond), and verify_execution_stats finds nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from factories import add_agent, add_user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from stats_expected import (
    dsn,
    expected_agents,
    expected_daily,
    expected_dashboard,
    normalize,
    normalized,
    raw_executions,
    utc_today,
)

from pyglue import stats
from pyglue.dburl import create_engine_for

STATUSES = ("pending", "running", "completed", "failed", "cancelled")
# just after midnight, midday, the last microsecond of the day
TIMES_OF_DAY = (time(0, 0), time(0, 0, 0, 1), time(12, 0), time(23, 59, 59, 999999))
USERS = [uuid.UUID(int=0x100 + i) for i in range(3)]
# two agents per user
AGENTS = [(uuid.UUID(int=0x200 + i), USERS[i // 2]) for i in range(6)]

durations = st.one_of(st.sampled_from([0, 1, 999, 1000, 1500]), st.integers(0, 3_600_000))
costs = st.integers(0, 10**7).map(lambda c: Decimal(c).scaleb(-6))
day_offsets = st.integers(-3, 0)
times_of_day = st.integers(0, len(TIMES_OF_DAY) - 1)


@dataclass(frozen=True)
class Insert:
    agent: int
    status: str
    day: int
    tod: int
    duration: int | None


@dataclass(frozen=True)
class SetStatus:
    execution: int
    status: str
    duration: int | None
    keep_duration: bool


@dataclass(frozen=True)
class WriteMetrics:
    execution: int
    tokens: int
    calls: int
    cost: Decimal


@dataclass(frozen=True)
class DeleteMetrics:
    execution: int


@dataclass(frozen=True)
class Move:
    execution: int
    agent: int
    day: int
    tod: int


Op = Insert | SetStatus | WriteMetrics | DeleteMetrics | Move

ops = st.one_of(
    st.builds(
        Insert,
        st.integers(0, len(AGENTS) - 1),
        st.sampled_from(STATUSES),
        day_offsets,
        times_of_day,
        st.one_of(st.none(), durations),
    ),
    st.builds(
        SetStatus,
        st.integers(0, 50),
        st.sampled_from(STATUSES),
        st.one_of(st.none(), durations),
        st.booleans(),
    ),
    st.builds(
        WriteMetrics,
        st.integers(0, 50),
        st.integers(0, 100_000),
        st.integers(0, 50),
        costs,
    ),
    st.builds(DeleteMetrics, st.integers(0, 50)),
    st.builds(Move, st.integers(0, 50), st.integers(0, len(AGENTS) - 1), day_offsets, times_of_day),
)
# a list of transactions, each a few operations
histories = st.lists(st.lists(ops, min_size=1, max_size=4), min_size=1, max_size=12)


@pytest.fixture
def stats_db(head_url: str) -> Iterator[tuple[psycopg.Connection[Any], Engine]]:
    conn = psycopg.connect(dsn(head_url), autocommit=True)
    for user_id in USERS:
        add_user(conn, user_id)
    for i, (agent_id, user_id) in enumerate(AGENTS):
        add_agent(conn, user_id, agent_id, name=f"agent {i}")
    engine = create_engine_for(head_url)
    try:
        yield conn, engine
    finally:
        engine.dispose()
        conn.close()


def _started_at(today: date, day: int, tod: int) -> datetime:
    return datetime.combine(today + timedelta(days=day), TIMES_OF_DAY[tod])


def _apply(conn: psycopg.Connection[Any], op: Op, executions: list[uuid.UUID], today: date) -> None:
    if isinstance(op, Insert):
        agent_id, user_id = AGENTS[op.agent]
        execution_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO agent_executions (id, agent_id, user_id, status, started_at, duration_ms) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (execution_id, agent_id, user_id, op.status, _started_at(today, op.day, op.tod),
             op.duration),
        )  # fmt: skip
        executions.append(execution_id)
        return
    if not executions:
        return
    execution_id = executions[op.execution % len(executions)]
    if isinstance(op, SetStatus):
        if op.keep_duration:
            conn.execute(
                "UPDATE agent_executions SET status = %s WHERE id = %s", (op.status, execution_id)
            )
        else:
            conn.execute(
                "UPDATE agent_executions SET status = %s, duration_ms = %s, "
                "completed_at = timezone('utc', now()) WHERE id = %s",
                (op.status, op.duration, execution_id),
            )
    elif isinstance(op, WriteMetrics):
        conn.execute(
            "INSERT INTO execution_metrics"
            " (execution_id, started_at, total_tokens, llm_call_count, cost)"
            " SELECT id, started_at, %s, %s, %s FROM agent_executions WHERE id = %s"
            " ON CONFLICT (execution_id, started_at) DO UPDATE SET "
            "total_tokens = excluded.total_tokens, llm_call_count = excluded.llm_call_count, "
            "cost = excluded.cost, updated_at = timezone('utc', now())",
            (op.tokens, op.calls, op.cost, execution_id),
        )
    elif isinstance(op, DeleteMetrics):
        conn.execute("DELETE FROM execution_metrics WHERE execution_id = %s", (execution_id,))
    else:
        agent_id, user_id = AGENTS[op.agent]
        conn.execute(
            "UPDATE agent_executions SET agent_id = %s, user_id = %s, started_at = %s "
            "WHERE id = %s",
            (agent_id, user_id, _started_at(today, op.day, op.tod), execution_id),
        )


def _check_reads(conn: psycopg.Connection[Any], engine: Engine, today: date) -> None:
    raw = raw_executions(conn)
    names = {agent_id: f"agent {i}" for i, (agent_id, _) in enumerate(AGENTS)}
    for user_id in USERS:
        for days in (1, 2, 30):
            got = normalize(stats.user_dashboard(engine, user_id, days))
            assert got == normalized(expected_dashboard(raw, user_id, days, today))
            got_agents = [normalize(r) for r in stats.agent_stats_summary(engine, user_id, days)]
            assert got_agents == [
                normalized(r) for r in expected_agents(raw, names, user_id, days, today)
            ]
        date_from, date_to = today - timedelta(days=4), today + timedelta(days=1)
        got_daily = [
            normalize(r) for r in stats.user_daily_stats(engine, user_id, date_from, date_to)
        ]
        assert got_daily == [
            normalized(r) for r in expected_daily(raw, user_id, date_from, date_to)
        ]
    assert stats.verify_execution_stats(engine, today - timedelta(days=10), today) == []


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_reads_equal_raw_aggregation(
    stats_db: tuple[psycopg.Connection[Any], Engine], history: list[list[Op]]
) -> None:
    conn, engine = stats_db
    conn.execute(
        "TRUNCATE agent_executions, execution_metrics, agent_execution_stats, "
        "user_execution_stats, workflow_execution_stats, agentdb.agent_stats_deltas, "
        "agentdb.workflow_stats_deltas"
    )
    today = utc_today(conn)
    executions: list[uuid.UUID] = []
    for transaction in history:
        with conn.transaction():
            for op in transaction:
                _apply(conn, op, executions, today)
    _check_reads(conn, engine, today)
