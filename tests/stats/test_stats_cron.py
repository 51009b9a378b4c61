"""pg_cron folds the pending stats deltas every minute (the cron database, "agentdb")."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from pyglue import maintenance, stats

USER = uuid.UUID(int=0x2100)
AGENT = uuid.UUID(int=0x2200)
RUNS = 25


@pytest.fixture
def cron(cron_engine: Engine) -> Iterator[Engine]:
    """The cron database with no agentdb job scheduled, data or runs left behind."""
    yield cron_engine
    maintenance.unschedule(cron_engine)
    with cron_engine.begin() as conn:
        conn.execute(
            text("TRUNCATE agentdb.maintenance_runs, agentdb.agent_stats_deltas, users CASCADE")
        )
        conn.execute(text("DELETE FROM cron.job_run_details"))


def test_the_fold_is_registered_every_minute(cron: Engine) -> None:
    with cron.connect() as conn:
        row = conn.execute(
            text("SELECT schedule, command FROM agentdb.scheduled_jobs WHERE job_name = :job"),
            {"job": stats.FOLD_JOB_NAME},
        ).one()
    assert tuple(row) == ("* * * * *", "CALL agentdb.fold_execution_stats()")


@pytest.mark.slow
def test_pg_cron_really_folds_the_pending_deltas(cron: Engine) -> None:
    """pg_cron 1.4 has no seconds: wait for the next minute (<= 60 s)."""
    with cron.begin() as conn:
        # the fold lock held while the runs are written: no writer folds them
        conn.execute(
            text(
                "SELECT pg_advisory_xact_lock(('x' || substr(md5(:job), 1, 16))::bit(64)::bigint)"
            ),
            {"job": stats.FOLD_JOB_NAME},
        )
        conn.execute(text("INSERT INTO users (id, email) VALUES (:u, 'cron@x.test')"), {"u": USER})
        conn.execute(
            text("INSERT INTO agents (id, user_id, name) VALUES (:a, :u, 'cron')"),
            {"a": AGENT, "u": USER},
        )
        conn.execute(
            text(
                "INSERT INTO agent_executions (agent_id, user_id, status, started_at, duration_ms)"
                " SELECT :a, :u, 'completed', timezone('utc', now()), g"
                " FROM generate_series(1, :runs) g"
            ),
            {"a": AGENT, "u": USER, "runs": RUNS},
        )
        # counted before the commit releases the lock: a job already scheduled
        # may fold them at the next minute, from the moment they are visible
        assert (
            conn.execute(text("SELECT count(*) FROM agentdb.agent_stats_deltas")).scalar() == RUNS
        )
    jobid = {j.job_name: j.jobid for j in maintenance.schedule(cron)}[stats.FOLD_JOB_NAME]
    deadline = time.monotonic() + 90
    finished: list[str] = []
    with cron.connect() as conn:
        while time.monotonic() < deadline and not finished:
            time.sleep(1)
            finished = list(
                conn.execute(
                    text(
                        "SELECT status FROM cron.job_run_details"
                        " WHERE jobid = :jobid AND status IN ('succeeded', 'failed')"
                    ),
                    {"jobid": jobid},
                ).scalars()
            )
            conn.rollback()
    maintenance.unschedule(cron)
    assert finished, "pg_cron did not run the fold within 90 seconds"
    assert finished[0] == "succeeded"
    with cron.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agentdb.agent_stats_deltas")).scalar() == 0
        folded = conn.execute(
            text(
                "SELECT status, (counts ->> 'deltas_folded')::int FROM agentdb.maintenance_runs"
                " WHERE job_name = :job ORDER BY id LIMIT 1"
            ),
            {"job": stats.FOLD_JOB_NAME},
        ).one()
        assert tuple(folded) == ("succeeded", RUNS)
        rollup = conn.execute(
            text(
                "SELECT execution_count, min_duration_ms, max_duration_ms"
                " FROM agent_execution_stats WHERE agent_id = :a"
            ),
            {"a": AGENT},
        ).one()
        assert tuple(rollup) == (RUNS, 1, RUNS)
