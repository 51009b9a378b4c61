"""pg_cron runs the retention job (the cron database, "agentdb")."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from pyglue import maintenance, retention


@pytest.fixture
def cron(cron_engine: Engine) -> Iterator[Engine]:
    """The cron database with no agentdb job scheduled and no runs left behind."""
    yield cron_engine
    maintenance.unschedule(cron_engine)
    with cron_engine.begin() as conn:
        conn.execute(text("TRUNCATE agentdb.maintenance_runs"))
        conn.execute(text("DELETE FROM cron.job_run_details"))


def test_schedule_maintenance_schedules_retention_daily(cron: Engine) -> None:
    maintenance.schedule(cron)
    with cron.connect() as conn:
        row = conn.execute(
            text("SELECT schedule, command FROM cron.job WHERE jobname = :job"),
            {"job": retention.RETENTION_JOB},
        ).one()
    assert tuple(row) == ("15 4 * * *", "CALL agentdb.run_retention_maintenance()")


@pytest.mark.slow
def test_pg_cron_really_runs_retention(cron: Engine) -> None:
    """pg_cron 1.4 has no seconds: the job, rescheduled every minute, runs within 60 s."""
    with cron.begin() as conn:
        conn.execute(
            text("SELECT cron.schedule(:job, '* * * * *', :command)"),
            {"job": retention.RETENTION_JOB, "command": "CALL agentdb.run_retention_maintenance()"},
        )
    deadline = time.monotonic() + 75
    status = None
    while time.monotonic() < deadline and status is None:
        time.sleep(1)
        with cron.connect() as conn:
            status = conn.execute(
                text(
                    "SELECT status FROM agentdb.maintenance_runs WHERE job_name = :job"
                    " AND status <> 'running' ORDER BY id DESC LIMIT 1"
                ),
                {"job": retention.RETENTION_JOB},
            ).scalar()
    assert status == "succeeded"
