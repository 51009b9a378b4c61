"""agentdb.register_job / unregister_job: the one way jobs enter and leave the registry and cron."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

JOB = "agentdb-test-job"


@pytest.fixture
def cron(cron_engine: Engine) -> Iterator[Engine]:
    yield cron_engine
    with cron_engine.begin() as conn:
        conn.execute(text("SELECT agentdb.unregister_job(:name)"), {"name": JOB})
        conn.execute(text("SELECT agentdb.unschedule_maintenance()"))


def _registered(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT job_name, schedule, command FROM agentdb.scheduled_jobs"))
        return {row.job_name: (row.schedule, row.command) for row in rows}


def _in_cron(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT jobname, schedule, command FROM cron.job"))
        return {row.jobname: (row.schedule, row.command) for row in rows}


def _register(engine: Engine, name: str | None, schedule: str | None, command: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("SELECT agentdb.register_job(:n, :s, :c, 'a test job')"),
            {"n": name, "s": schedule, "c": command},
        )


def test_a_registered_job_waits_for_schedule_maintenance(cron: Engine) -> None:
    _register(cron, JOB, "5 4 * * *", "SELECT 1")
    assert _registered(cron)[JOB] == ("5 4 * * *", "SELECT 1")
    assert JOB not in _in_cron(cron)
    with cron.begin() as conn:
        conn.execute(text("SELECT agentdb.schedule_maintenance()"))
    assert _in_cron(cron)[JOB] == ("5 4 * * *", "SELECT 1")


def test_a_scheduled_job_follows_its_registration_at_once(cron: Engine) -> None:
    _register(cron, JOB, "5 4 * * *", "SELECT 1")
    with cron.begin() as conn:
        conn.execute(text("SELECT agentdb.schedule_maintenance()"))
    _register(cron, JOB, "6 5 * * *", "SELECT 2")
    assert _registered(cron)[JOB] == ("6 5 * * *", "SELECT 2")
    assert _in_cron(cron)[JOB] == ("6 5 * * *", "SELECT 2")


def test_unregister_takes_the_job_out_of_the_registry_and_pg_cron(cron: Engine) -> None:
    _register(cron, JOB, "5 4 * * *", "SELECT 1")
    with cron.begin() as conn:
        conn.execute(text("SELECT agentdb.schedule_maintenance()"))
        assert conn.execute(text("SELECT agentdb.unregister_job(:n)"), {"n": JOB}).scalar() is True
        assert conn.execute(text("SELECT agentdb.unregister_job(:n)"), {"n": JOB}).scalar() is False
    assert JOB not in _registered(cron)
    assert JOB not in _in_cron(cron)


@pytest.mark.parametrize(
    ("name", "schedule", "command", "parameter"),
    [
        ("not-agentdb", "* * * * *", "SELECT 1", "p_job_name"),
        (None, "* * * * *", "SELECT 1", "p_job_name"),
        (JOB, " ", "SELECT 1", "p_schedule"),
        (JOB, "* * * * *", None, "p_command"),
    ],
)
def test_bad_registrations_are_refused_naming_the_parameter(
    cron: Engine, name: str | None, schedule: str | None, command: str | None, parameter: str
) -> None:
    with pytest.raises(DBAPIError, match=parameter) as caught:
        _register(cron, name, schedule, command)
    assert getattr(caught.value.orig, "sqlstate", None) == "22023"
    assert JOB not in _registered(cron)


def test_only_the_owner_may_register_jobs(cron: Engine) -> None:
    with cron.connect() as conn:
        granted = conn.execute(
            text(
                "SELECT r.rolname FROM pg_roles r"
                " WHERE r.rolname IN ('agentdb_app', 'agentdb_admin')"
                "   AND (has_function_privilege(r.oid,"
                "            'agentdb.register_job(text,text,text,text)', 'EXECUTE')"
                "        OR has_function_privilege(r.oid,"
                "            'agentdb.unregister_job(text)', 'EXECUTE'))"
            )
        ).all()
    assert granted == []
