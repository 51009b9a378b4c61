"""pg_cron scheduling of the memory jobs, in the cluster's cron.database_name database ("agentdb").

pg_cron only works in that one database (the `cron_engine` fixture).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import add_memories, add_memory_agent
from sqlalchemy import Engine, text

from pyglue import cli, maintenance

JOBS = {
    "agentdb-memory-maintenance": ("0 3 * * *", "CALL agentdb.run_memory_maintenance()"),
    "agentdb-purge-cron-history": (
        "30 3 * * *",
        "DELETE FROM cron.job_run_details WHERE end_time < now() - interval '14 days'",
    ),
}


@pytest.fixture
def cron(cron_engine: Engine) -> Iterator[Engine]:
    """The cron database with no agentdb job scheduled, data or runs left behind."""
    yield cron_engine
    maintenance.unschedule(cron_engine)
    with cron_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE agentdb.scheduled_jobs SET schedule = '0 3 * * *'"
                " WHERE job_name = 'agentdb-memory-maintenance'"
            )
        )
        conn.execute(text("TRUNCATE agentdb.maintenance_runs, users CASCADE"))
        conn.execute(text("DELETE FROM cron.job_run_details"))


def _cron_jobs(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT jobname, schedule, command FROM cron.job"))
        return {row.jobname: (row.schedule, row.command) for row in rows}


def _registered_jobs(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT job_name, schedule, command FROM agentdb.scheduled_jobs"))
        return {row.job_name: (row.schedule, row.command) for row in rows}


def test_schedule_is_idempotent_and_unschedule_removes(cron: Engine) -> None:
    assert _cron_jobs(cron) == {}
    registered = _registered_jobs(cron)
    assert JOBS.items() <= registered.items()
    first = maintenance.schedule(cron)
    assert [(j.job_name, j.schedule) for j in first if j.job_name in JOBS] == [
        ("agentdb-memory-maintenance", "0 3 * * *"),
        ("agentdb-purge-cron-history", "30 3 * * *"),
    ]
    assert _cron_jobs(cron) == registered
    second = maintenance.schedule(cron)
    assert [j.jobid for j in second] == [j.jobid for j in first]  # updated in place, by name
    assert _cron_jobs(cron) == registered  # one job each
    assert maintenance.unschedule(cron) == sorted(registered)
    assert _cron_jobs(cron) == {}
    assert maintenance.unschedule(cron) == []


def test_install_schedule_cli(cron: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    url = cron.url.render_as_string(hide_password=False)
    assert cli.main(["install", "--schedule", "--database-url", url]) == 0
    out = capsys.readouterr().out.splitlines()
    scheduled = [line.split(" as pg_cron job ")[0] for line in out if line.startswith("scheduled")]
    assert scheduled == [
        f"scheduled {name} ({schedule})"
        for name, (schedule, _) in sorted(_registered_jobs(cron).items())
    ]
    assert JOBS.items() <= _cron_jobs(cron).items()


@pytest.mark.slow
def test_pg_cron_really_runs_the_maintenance(cron: Engine) -> None:
    """pg_cron 1.4 has no seconds: schedule every minute and wait for the next one (<= 60 s)."""
    add_memory_agent(cron)
    with cron.begin() as conn:
        add_memories(conn, 40, type_="short_term", age=timedelta(days=2))
        add_memories(conn, 3, type_="short_term", age=timedelta(hours=1))
        conn.execute(
            text(
                "UPDATE agentdb.scheduled_jobs SET schedule = '* * * * *'"
                " WHERE job_name = 'agentdb-memory-maintenance'"
            )
        )
    jobid = {j.job_name: j.jobid for j in maintenance.schedule(cron)}["agentdb-memory-maintenance"]
    deadline = time.monotonic() + 90
    finished: list[tuple[str, str]] = []
    with cron.connect() as conn:
        while time.monotonic() < deadline and not finished:
            time.sleep(1)
            finished = [
                (row.status, row.command)
                for row in conn.execute(
                    text(
                        "SELECT status, command FROM cron.job_run_details"
                        " WHERE jobid = :jobid AND status IN ('succeeded', 'failed')"
                    ),
                    {"jobid": jobid},
                )
            ]
            conn.rollback()
    maintenance.unschedule(cron)
    assert finished, "pg_cron did not run agentdb-memory-maintenance within 90 seconds"
    assert finished[0] == ("succeeded", "CALL agentdb.run_memory_maintenance()")
    runs = maintenance.last_runs(cron, 5, job_name="agentdb-memory-maintenance")
    assert [(r.status, r.rows_deleted, r.consolidated) for r in runs][-1] == ("succeeded", 40, 0)
    with cron.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agent_memories")).scalar_one() == 3
