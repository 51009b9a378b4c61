"""pyglue.maintenance and the memory maintenance procedure on a real database.

Concurrency and interruption are made deterministic with a gate: a test-only
BEFORE DELETE trigger that waits on an advisory lock the test holds when it
reaches the row whose content is 'gate'. Batches before the gate COMMIT; the
batch holding it blocks until the test releases the lock (or terminates the
backend).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from factories import AGENT_ID, add_memories, add_memory_agent, count_memories
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from pyglue import cli, maintenance
from pyglue.dburl import create_engine_for, libpq_dsn
from pyglue.errors import ConfigurationError, PermissionDenied
from pyglue.maintenance import MaintenanceError, MaintenanceRun
from pyglue.testing import PostgresCluster

GATE_KEY = 4242
DAY = timedelta(days=1)

GATE_SQL = f"""
CREATE FUNCTION public.test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.content = 'gate' THEN
        PERFORM pg_advisory_xact_lock_shared({GATE_KEY});
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER test_gate BEFORE DELETE ON public.agent_memories
    FOR EACH ROW EXECUTE FUNCTION public.test_gate();
"""


@pytest.fixture
def agent(engine: Engine) -> uuid.UUID:
    return add_memory_agent(engine)


@pytest.fixture
def role_url(pg_cluster: PostgresCluster, head_url: str) -> Iterator[Callable[[str], str]]:
    """Make LOGIN roles that are members of an agentdb role; returns a URL for each."""
    created: list[str] = []
    dsn = libpq_dsn(make_url(head_url))

    def make(member_of: str) -> str:
        name = f"test_{member_of}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE {member_of}')
        created.append(name)
        return str(make_url(head_url).set(username=name).render_as_string(hide_password=False))

    yield make
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in created:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
            )
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE "{name}"')


def _runs(engine: Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, error FROM agentdb.maintenance_runs ORDER BY id"))
        return [(row.status, row.error) for row in rows]


# ---------------------------------------------------------------- wrappers


def test_preview_then_cleanup(engine: Engine, agent: uuid.UUID) -> None:
    with engine.begin() as conn:
        add_memories(conn, 30, type_="short_term", age=DAY + timedelta(minutes=1))
        add_memories(conn, 5, type_="short_term", age=timedelta(hours=2))
        add_memories(conn, 8, type_="episodic", age=31 * DAY)
        add_memories(conn, 8, type_="episodic", importance="high", age=300 * DAY)
        add_memories(conn, 4, type_="long_term", age=100 * DAY)
    preview = maintenance.preview_memory_cleanup(engine)
    assert [(p.policy_name, p.memory_type, p.importance, p.age_basis, p.rows) for p in preview] == [
        ("episodic_low", "episodic", "low", "created", 8),
        ("long_term_low", "long_term", "low", "last_access", 4),
        ("short_term", "short_term", None, "created", 30),
    ]
    assert [p.max_age for p in preview] == [timedelta(days=30), timedelta(days=90), DAY]
    assert all(p.approx_bytes > 0 for p in preview)
    assert count_memories(engine) == 55

    result = maintenance.cleanup_expired_memories(engine, batch_size=7)
    assert result == [
        maintenance.PolicyCleanup("episodic_low", 8, 2, True),
        maintenance.PolicyCleanup("long_term_low", 4, 1, True),
        maintenance.PolicyCleanup("short_term", 30, 5, True),
    ]
    assert count_memories(engine) == 13
    limited = maintenance.cleanup_expired_memories(engine, batch_size=3, max_batches=1)
    assert [r.rows_deleted for r in limited] == [0, 0, 0]


def test_cleanup_batches_split_rows_of_the_same_age_by_id(engine: Engine, agent: uuid.UUID) -> None:
    """A batch is the n oldest by (age, id): 25 rows created at one instant take 3 batches of 10."""
    with engine.begin() as conn:
        add_memories(conn, 25, type_="short_term", age=2 * DAY, step=timedelta(0))
        add_memories(conn, 5, type_="short_term", age=timedelta(hours=1))
    first = maintenance.cleanup_expired_memories(engine, batch_size=10, max_batches=1)
    assert first[-1] == maintenance.PolicyCleanup("short_term", 10, 1, False)
    assert count_memories(engine) == 20
    rest = maintenance.cleanup_expired_memories(engine, batch_size=10)
    assert rest[-1] == maintenance.PolicyCleanup("short_term", 15, 2, True)
    assert count_memories(engine) == 5


def test_consolidate(engine: Engine, agent: uuid.UUID) -> None:
    with engine.begin() as conn:
        add_memories(conn, 4, type_="short_term", age=timedelta(hours=13), access_count=3)
        add_memories(conn, 4, type_="short_term", age=timedelta(hours=13), access_count=2)
    assert maintenance.preview_memory_consolidation(engine) == 4
    assert maintenance.preview_memory_consolidation(engine, uuid.uuid4()) == 0
    assert maintenance.consolidate_memories(engine, uuid.uuid4()) == 0
    assert maintenance.consolidate_memories(engine, AGENT_ID) == 4
    assert maintenance.consolidate_memories(engine) == 0


def test_run_memory_maintenance_and_last_runs(engine: Engine, agent: uuid.UUID) -> None:
    with engine.begin() as conn:
        add_memories(conn, 25, type_="short_term", age=2 * DAY)
        add_memories(conn, 3, type_="short_term", age=2 * DAY, access_count=5, content="kept")
        add_memories(conn, 6, type_="episodic", age=40 * DAY)

    dry = maintenance.run_memory_maintenance(engine, batch_size=10, dry_run=True)
    assert dry is not None
    assert (dry.status, dry.dry_run, dry.consolidated, dry.batches) == ("succeeded", True, 3, 0)
    assert dry.deleted == (
        maintenance.PolicyCount("episodic_low", 6),
        maintenance.PolicyCount("long_term_low", 0),
        maintenance.PolicyCount("short_term", 28),
    )
    assert count_memories(engine) == 34

    run = maintenance.run_memory_maintenance(engine, batch_size=10)
    assert run is not None
    assert run.job_name == "agentdb-memory-maintenance"
    assert (run.status, run.dry_run, run.consolidated, run.batches) == ("succeeded", False, 3, 3)
    assert run.rows_deleted == 31
    assert dict((c.policy_name, c.rows) for c in run.deleted) == {
        "episodic_low": 6,
        "long_term_low": 0,
        "short_term": 25,
    }
    assert run.finished_at is not None
    assert run.error is None
    assert count_memories(engine) == 3

    runs = maintenance.last_runs(engine, 10)
    assert [r.id for r in runs] == [run.id, dry.id]
    assert runs[0] == run
    assert maintenance.last_runs(engine, 1, job_name="agentdb-nothing") == []
    with pytest.raises(ConfigurationError, match="limit must be a positive integer"):
        maintenance.last_runs(engine, 0)


def test_bad_batch_size_is_a_configuration_error(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="p_batch_size must be a positive integer, not 0"):
        maintenance.run_memory_maintenance(engine, batch_size=0)
    with pytest.raises(ConfigurationError, match="p_batch_size must be a positive integer, not -3"):
        maintenance.cleanup_expired_memories(engine, batch_size=-3)
    with pytest.raises(ConfigurationError, match="p_max_batches must be a positive integer"):
        maintenance.cleanup_expired_memories(engine, max_batches=0)
    assert _runs(engine) == []


def test_app_role_gets_permission_denied(
    engine: Engine, role_url: Callable[[str], str], agent: uuid.UUID
) -> None:
    app = create_engine_for(role_url("agentdb_app"), poolclass=NullPool)
    calls: list[Callable[[], object]] = [
        lambda: maintenance.run_memory_maintenance(app),
        lambda: maintenance.run_memory_maintenance(app, dry_run=True),
        lambda: maintenance.preview_memory_cleanup(app),
        lambda: maintenance.preview_memory_consolidation(app),
        lambda: maintenance.consolidate_memories(app),
        lambda: maintenance.cleanup_expired_memories(app),
        lambda: maintenance.last_runs(app),
        lambda: maintenance.schedule(app),
        lambda: maintenance.unschedule(app),
    ]
    try:
        for call in calls:
            with pytest.raises(PermissionDenied) as caught:
                call()
            assert caught.value.role_needed == "agentdb_admin"
            assert "permission denied" in str(caught.value)
            assert "grant the role agentdb_admin" in str(caught.value)
    finally:
        app.dispose()
    assert _runs(engine) == []


def test_admin_role_runs_maintenance(
    engine: Engine, role_url: Callable[[str], str], agent: uuid.UUID
) -> None:
    with engine.begin() as conn:
        add_memories(conn, 12, type_="episodic", age=45 * DAY)
    admin = create_engine_for(role_url("agentdb_admin"), poolclass=NullPool)
    try:
        run = maintenance.run_memory_maintenance(admin, batch_size=5)
        assert run is not None
        assert (run.status, run.rows_deleted, run.batches) == ("succeeded", 12, 3)
        assert [p.rows for p in maintenance.preview_memory_cleanup(admin)] == [0, 0, 0]
        assert maintenance.last_runs(admin, 5) == [run]
    finally:
        admin.dispose()


# ------------------------------------------------- concurrency and interruption


@pytest.fixture
def gate(engine: Engine) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Install the gate trigger and hold its lock; yields the holding connection."""
    with engine.begin() as conn:
        conn.exec_driver_sql(GATE_SQL)
    holder = psycopg.connect(libpq_dsn(engine.url), autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [GATE_KEY])
    try:
        yield holder
    finally:
        holder.close()


def _wait_until_gated(engine: Engine, application_name: str, timeout: float = 60) -> int:
    """The pid of the backend with this application_name once it waits on the gate's lock."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = :name"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                ),
                {"name": application_name},
            ).scalar()
            conn.rollback()
            if pid is not None:
                return int(pid)
            time.sleep(0.02)
    raise AssertionError(f"{application_name} never reached the gate")


def _named_engine(engine: Engine, application_name: str) -> Engine:
    return create_engine_for(
        engine.url, poolclass=NullPool, connect_args={"application_name": application_name}
    )


@pytest.mark.direct(reason="the test holds a session advisory lock (the gate)")
def test_two_simultaneous_runs_one_is_skipped(
    engine: Engine,
    agent: uuid.UUID,
    gate: psycopg.Connection[tuple[object, ...]],
    head_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with engine.begin() as conn:
        add_memories(conn, 50, type_="short_term", age=2 * DAY + timedelta(hours=1))
        add_memories(conn, 1, type_="short_term", age=2 * DAY, content="gate")
    first_engine = _named_engine(engine, "memory-run-first")
    with ThreadPoolExecutor(max_workers=1) as pool:
        first: Future[MaintenanceRun | None] = pool.submit(
            maintenance.run_memory_maintenance, first_engine, batch_size=20
        )
        _wait_until_gated(engine, "memory-run-first")
        # the first run holds the lock, mid-run, with two batches COMMITted
        second = maintenance.run_memory_maintenance(engine, batch_size=20)
        assert second is not None
        assert second.status == "skipped"
        assert second.counts["reason"] == (
            "another run of agentdb-memory-maintenance holds its advisory lock"
        )
        assert second.finished_at is not None
        assert cli.main(["maintain", "memory", "--database-url", head_url]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"agentdb-memory-maintenance run {second.id + 1}: skipped",
            "  another run of agentdb-memory-maintenance holds its advisory lock",
        ]
        gate.execute("SELECT pg_advisory_unlock(%s)", [GATE_KEY])
        result = first.result(timeout=60)
    first_engine.dispose()
    assert result is not None
    assert (result.status, result.rows_deleted, result.batches) == ("succeeded", 51, 3)
    assert [status for status, _ in _runs(engine)] == ["succeeded", "skipped", "skipped"]
    assert count_memories(engine) == 0


@pytest.mark.direct(reason="the test holds a session advisory lock (the gate)")
def test_terminated_backend_then_next_run_finishes(
    engine: Engine, agent: uuid.UUID, gate: psycopg.Connection[tuple[object, ...]]
) -> None:
    with engine.begin() as conn:
        # 100 expired: the 35th oldest is the gate, so batches of 10 COMMIT 3 times, then block
        add_memories(conn, 65, type_="short_term", age=2 * DAY, step=timedelta(seconds=1))
        add_memories(
            conn, 1, type_="short_term", age=2 * DAY + timedelta(seconds=65), content="gate"
        )
        add_memories(conn, 34, type_="short_term", age=2 * DAY + timedelta(seconds=66))
        add_memories(conn, 7, type_="short_term", age=timedelta(hours=1))
    victim_engine = _named_engine(engine, "memory-run-victim")
    with ThreadPoolExecutor(max_workers=1) as pool:
        victim = pool.submit(maintenance.run_memory_maintenance, victim_engine, batch_size=10)
        pid = _wait_until_gated(engine, "memory-run-victim")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        with pytest.raises(MaintenanceError) as caught:
            victim.result(timeout=60)
    victim_engine.dispose()
    assert caught.value.sqlstate == "57P01"  # admin_shutdown: terminated

    # consistent: the three COMMITted batches are gone, the interrupted one is back
    assert count_memories(engine) == 107 - 30
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, status, counts FROM agentdb.maintenance_runs ORDER BY id")
        ).one()
        assert row.status == "running"  # a dead backend cannot record its own end
        assert row.counts["deleted"] == {"short_term": 30, "episodic_low": 0, "long_term_low": 0}
        assert row.counts["batches"] == 3
        gone = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar_one()
        assert gone == 0

    gate.execute("SELECT pg_advisory_unlock(%s)", [GATE_KEY])
    following = maintenance.run_memory_maintenance(engine, batch_size=10)
    assert following is not None
    assert (following.status, following.abandoned_runs) == ("succeeded", 1)
    assert following.rows_deleted == 70
    assert count_memories(engine) == 7
    runs = _runs(engine)
    assert runs[0][0] == "failed"
    assert str(runs[0][1]).startswith("abandoned: the backend running it ended")
    assert runs[1] == ("succeeded", None)


@pytest.mark.direct(reason="the test holds a session advisory lock (the gate) and cancels a pid")
def test_cancelled_run_is_recorded_failed(
    engine: Engine, agent: uuid.UUID, gate: psycopg.Connection[tuple[object, ...]]
) -> None:
    with engine.begin() as conn:
        add_memories(conn, 5, type_="short_term", age=2 * DAY, content="gate")
    victim_engine = _named_engine(engine, "memory-run-cancelled")
    with ThreadPoolExecutor(max_workers=1) as pool:
        victim = pool.submit(maintenance.run_memory_maintenance, victim_engine, batch_size=10)
        pid = _wait_until_gated(engine, "memory-run-cancelled")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_cancel_backend(:pid)"), {"pid": pid}).scalar()
        with pytest.raises(MaintenanceError, match="canceling statement due to user request"):
            victim.result(timeout=60)
    victim_engine.dispose()
    runs = _runs(engine)
    assert len(runs) == 1
    assert runs[0] == ("failed", "canceling statement due to user request [SQLSTATE 57014]")
    gate.execute("SELECT pg_advisory_unlock(%s)", [GATE_KEY])
    # the lock was released: the next run is not skipped
    following = maintenance.run_memory_maintenance(engine)
    assert following is not None
    assert following.status == "succeeded"
    assert following.rows_deleted == 5


# ---------------------------------------------------------------- index use


@pytest.mark.direct(reason="LOAD 'auto_explain' and SETs are session state a pooler would leak")
def test_cleanup_statements_use_the_partial_indexes(engine: Engine, agent: uuid.UUID) -> None:
    """auto_explain prints the plans of the statements the functions really run."""
    with engine.begin() as conn:
        for type_ in ("short_term", "long_term", "episodic"):
            for importance in ("low", "medium", "high"):
                add_memories(conn, 3000, type_=type_, importance=importance,
                             age=timedelta(hours=1), step=timedelta(seconds=5))  # fmt: skip
        add_memories(conn, 300, type_="short_term", age=2 * DAY)
        add_memories(conn, 300, type_="long_term", age=100 * DAY)
        add_memories(conn, 300, type_="episodic", age=40 * DAY)
        conn.execute(text("ANALYZE agent_memories"))
    plans: list[str] = []
    with psycopg.connect(libpq_dsn(engine.url), autocommit=True) as conn:
        conn.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        for setting in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_nested_statements = on",
            "SET auto_explain.log_level = 'notice'",
        ):
            conn.execute(setting)
        conn.execute("SELECT * FROM agentdb.preview_memory_cleanup()").fetchall()
        conn.execute("SELECT * FROM agentdb.cleanup_expired_memories(100)").fetchall()
    deletes = [p for p in plans if "Delete on agent_memories" in p]
    counts = [p for p in plans if "Query Text: SELECT count(*)" in p]
    assert len(deletes) == 3 * 4  # 300 rows per policy in batches of 100, plus the empty batch
    assert len(counts) == 3
    for index in (
        "ix_agent_memories_episodic_low_created_id",
        "ix_agent_memories_long_term_low_accessed_id",
        "ix_agent_memories_short_term_created_id",
    ):
        # an ordered Index Scan, or for few rows a Bitmap Index Scan and a Sort: a range
        # scan of the partial index either way
        def uses(plan: str, index: str = index) -> bool:
            return f"Index Scan using {index} " in plan or f"Bitmap Index Scan on {index} " in plan

        assert sum(uses(p) for p in deletes) == 4, f"{index}: not in every batch\n{deletes}"
        assert sum(uses(p) for p in counts) == 1, f"{index}: not in the preview\n{counts}"
    for plan in deletes + counts:
        assert "Seq Scan on agent_memories" not in plan, plan
    # each batch is a range of the index, keyed by (age, id): never by ctid (Citus has none)
    assert not any("Tid Scan" in p or "ctid" in p for p in deletes)


# ---------------------------------------------------------------- CLI


def test_cli_maintain_memory(
    engine: Engine, agent: uuid.UUID, head_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.begin() as conn:
        add_memories(conn, 12, type_="short_term", age=2 * DAY)
        add_memories(conn, 2, type_="short_term", age=2 * DAY, access_count=4)
        add_memories(conn, 3, type_="episodic", age=60 * DAY)

    assert cli.main(["maintain", "memory", "--dry-run", "--database-url", head_url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "agentdb-memory-maintenance run 1: succeeded (dry run: nothing changed)",
        "  would consolidate: 2 short-term memories into long-term",
        "  would delete: episodic_low 3, long_term_low 0, short_term 14 (17 rows)",
    ]
    assert count_memories(engine) == 17

    assert cli.main(["maintain", "memory", "--batch-size", "5", "--database-url", head_url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "agentdb-memory-maintenance run 2: succeeded",
        "  consolidate: 2 short-term memories into long-term",
        "  delete: episodic_low 3, long_term_low 0, short_term 12 (15 rows in 3 batch rounds)",
    ]
    assert count_memories(engine) == 2


def test_cli_maintain_memory_bad_input(head_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["maintain", "memory", "--batch-size", "0", "--database-url", head_url])
    assert exited.value.code == 2
    assert "--batch-size: must be a positive integer, not '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["maintain"])
    assert "the following arguments are required: job" in capsys.readouterr().err


def test_cli_maintain_memory_permission_denied(
    role_url: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = role_url("agentdb_app")
    assert cli.main(["maintain", "memory", "--database-url", url]) == 2
    err = capsys.readouterr().err
    assert err == (
        "pyglue: agentdb.run_memory_maintenance: permission denied for procedure"
        " run_memory_maintenance (grant the role agentdb_admin to this user)\n"
    )


def test_cli_install_schedule_without_pg_cron(
    head_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["install", "--schedule", "--database-url", head_url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "pg_cron is not installed in this database: nothing scheduled"
    )
