"""Issue 13, part 3: dropping history leaves the rollups as they are, and the stats
checks do not call its days drift.

agentdb.retention_horizon() is the upper bound of the latest partition
retention dropped (retention_policies.dropped_before). The policy is on the
fixture's public.rx, whose months the test controls, and the raw rows of an
old day are deleted by hand (a deleted run keeps its history in the
rollups), as dropping their month does.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import psycopg
import pytest
from factories import add_agent, add_user, add_workflow
from monthly_tables import Monthly, suffix

from pyglue import retention

USER = uuid.UUID(int=1)
AGENT = uuid.UUID(int=11)
WORKFLOW = uuid.UUID(int=31)


def history(m: Monthly, day: date, runs: int = 4) -> None:
    for i in range(runs):
        m.conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id, status, started_at, duration_ms)"
            " VALUES (%s, %s, 'completed', %s, %s)",
            (AGENT, USER, datetime.combine(day, datetime.min.time()) + timedelta(hours=i), 100),
        )
    m.conn.execute(
        "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at, duration_ms)"
        " VALUES (%s, %s, 'completed', %s, 50)",
        (WORKFLOW, USER, datetime.combine(day, datetime.min.time())),
    )


def rollups(m: Monthly) -> list[tuple[object, ...]]:
    return m.conn.execute(
        "SELECT 'agent', date, execution_count FROM agent_execution_stats"
        " UNION ALL SELECT 'user', date, execution_count FROM user_execution_stats"
        " UNION ALL SELECT 'workflow', date, execution_count FROM workflow_execution_stats"
        " ORDER BY 1, 2"
    ).fetchall()


def test_days_before_the_horizon_are_not_drift(monthly: Monthly) -> None:
    add_user(monthly.conn, USER)
    add_agent(monthly.conn, USER, AGENT, name="a")
    add_workflow(monthly.conn, USER, WORKFLOW, name="w")
    horizon_before = monthly.months[0].date()
    dropped_day = horizon_before - timedelta(days=10)
    kept_day = monthly.months[-1].date()
    history(monthly, dropped_day)
    history(monthly, kept_day)
    monthly.conn.execute("CALL agentdb.fold_execution_stats()")
    # retention took the raw rows of dropped_day (their month); the rollups keep them
    monthly.conn.execute("DELETE FROM agent_executions WHERE started_at < %s", (horizon_before,))
    monthly.conn.execute("DELETE FROM workflow_executions WHERE started_at < %s", (horizon_before,))
    kept = rollups(monthly)
    assert [r for r in kept if r[1] == dropped_day] == [
        ("agent", dropped_day, 4),
        ("user", dropped_day, 4),
        ("workflow", dropped_day, 1),
    ]
    # without a policy that day is drift
    drift = monthly.conn.execute(
        "SELECT count(*) FROM agentdb.verify_execution_stats(%s, %s)", (dropped_day, kept_day)
    ).fetchone()
    assert drift == (3,)

    monthly.conn.execute(
        "INSERT INTO agentdb.retention_policies (table_name, keep) VALUES ('public.rx', '90 days')"
    )
    # as drop_expired_partitions records the month it dropped
    monthly.conn.execute(
        "UPDATE agentdb.retention_policies SET dropped_before = %s", (monthly.months[0],)
    )
    assert monthly.conn.execute("SELECT agentdb.retention_horizon()").fetchone() == (
        horizon_before,
    )
    for p_from in (dropped_day, horizon_before - timedelta(days=1)):
        assert (
            monthly.conn.execute(
                "SELECT * FROM agentdb.verify_execution_stats(%s, %s)", (p_from, kept_day)
            ).fetchall()
            == []
        )
    assert (
        monthly.conn.execute(
            "SELECT * FROM agentdb.verify_execution_stats(%s, %s)", (dropped_day, dropped_day)
        ).fetchall()
        == []
    )
    check = monthly.conn.execute(
        "SELECT status, rows_checked, rows_repaired FROM agentdb.check_execution_stats(%s)",
        (dropped_day,),
    ).fetchone()
    assert check == ("skipped", 0, 0)
    reason = monthly.conn.execute(
        "SELECT counts ->> 'reason' FROM agentdb.maintenance_runs"
        " WHERE job_name = 'agentdb-execution-stats-check' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert reason == (
        f"{dropped_day} is before the retention horizon {horizon_before}:"
        " its raw rows were dropped, its rollups are kept",
    )
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="retention horizon") as caught:
        monthly.conn.execute(
            "SELECT * FROM agentdb.refresh_execution_stats(%s, %s)", (dropped_day, kept_day)
        )
    assert f"p_from ({dropped_day}) is before the retention horizon {horizon_before}" in str(
        caught.value
    )
    # from the horizon on, refresh still works and changes nothing exact
    refreshed = monthly.conn.execute(
        "SELECT sum(rows_deleted + rows_written) FROM agentdb.refresh_execution_stats(%s, %s)",
        (horizon_before, kept_day),
    ).fetchone()
    assert refreshed == (0,)
    assert rollups(monthly) == kept

    # a retention run moves the horizon to the end of what it dropped; rollups unchanged
    run = retention.run_retention_maintenance(monthly.engine)
    assert run is not None
    assert run.status == "succeeded"
    expired = monthly.expired(timedelta(days=90))
    oldest = monthly.months[len(expired)]
    assert monthly.partitions("rx")[0] == f"rx{suffix(oldest)}"
    assert monthly.conn.execute("SELECT agentdb.retention_horizon()").fetchone() == (oldest.date(),)
    assert rollups(monthly) == kept
