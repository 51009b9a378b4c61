"""refresh/verify/check of the execution stats, the nightly job, bad input, privileges, EXPLAIN."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from factories import add_agent, add_user, add_workflow
from sqlalchemy import Engine
from stats_expected import fold_stats, utc_today

from pyglue import stats
from pyglue.dburl import connect, create_engine_for
from pyglue.errors import ConfigurationError, PermissionDenied

USER = uuid.UUID(int=1)
AGENT = uuid.UUID(int=11)
WORKFLOW = uuid.UUID(int=31)
STATS_TRIGGERS = {
    "agent_executions": ("agentdb_stats_insert", "agentdb_stats_update"),
    "workflow_executions": ("agentdb_stats_insert", "agentdb_stats_update"),
    "execution_metrics": ("agentdb_stats_insert_delete", "agentdb_stats_update"),
}


@pytest.fixture
def db(head_url: str) -> Iterator[tuple[psycopg.Connection[Any], Engine]]:
    conn = connect(head_url, autocommit=True)
    add_user(conn, USER)
    add_agent(conn, USER, AGENT, name="a")
    add_workflow(conn, USER, WORKFLOW, name="w")
    engine = create_engine_for(head_url)
    try:
        yield conn, engine
    finally:
        engine.dispose()
        conn.close()


def _set_triggers(conn: psycopg.Connection[Any], enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    for table, triggers in STATS_TRIGGERS.items():
        for trigger in triggers:
            conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")


def _history(conn: psycopg.Connection[Any], day: date, runs: int = 6) -> None:
    """Runs of `day` with metrics, and one workflow run."""
    for i in range(runs):
        row = conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id, status, started_at, duration_ms) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (AGENT, USER, ("completed", "failed", "running")[i % 3],
             datetime.combine(day, datetime.min.time()) + timedelta(hours=i), 100 + i),
        ).fetchone()  # fmt: skip
        assert row is not None
        conn.execute(
            "INSERT INTO execution_metrics"
            " (execution_id, started_at, llm_call_count, total_tokens, cost) "
            "SELECT id, started_at, 1, 10, 0.25 FROM agent_executions WHERE id = %s",
            (row[0],),
        )
    conn.execute(
        "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at, duration_ms) "
        "VALUES (%s, %s, 'completed', %s, 50)",
        (WORKFLOW, USER, datetime.combine(day, datetime.min.time())),
    )


def test_refresh_rebuilds_what_triggers_missed_and_is_idempotent(
    db: tuple[psycopg.Connection[Any], Engine],
) -> None:
    conn, engine = db
    day = utc_today(conn) - timedelta(days=3)
    _set_triggers(conn, enabled=False)  # e.g. a bulk load with triggers off
    _history(conn, day)
    _set_triggers(conn, enabled=True)
    diffs = stats.verify_execution_stats(engine, day, day)
    assert [(d.stats_table, d.subject_id) for d in diffs] == [
        ("agent_execution_stats", AGENT),
        ("user_execution_stats", None),
        ("workflow_execution_stats", WORKFLOW),
    ]
    assert diffs[0].stored["execution_count"] == 0
    assert diffs[0].expected == {
        "execution_count": 6, "success_count": 2, "failed_count": 2, "cancelled_count": 0,
        "duration_count": 6, "total_duration_ms": 615, "min_duration_ms": 100,
        "max_duration_ms": 105, "avg_duration_ms": 103, "total_tokens": 60,
        "total_llm_calls": 6, "total_cost": 1.5,
    }  # fmt: skip
    first = stats.refresh_execution_stats(engine, day - timedelta(days=1), day)
    assert [(r.stats_table, r.rows_deleted, r.rows_written) for r in first] == [
        ("agent_execution_stats", 0, 1),
        ("user_execution_stats", 0, 1),
        ("workflow_execution_stats", 0, 1),
    ]
    assert stats.verify_execution_stats(engine, day, day) == []
    again = stats.refresh_execution_stats(engine, day - timedelta(days=1), day)
    assert [(r.rows_deleted, r.rows_written) for r in again] == [(0, 0)] * 3


def test_verify_reports_a_corrupted_row_and_refresh_repairs_it(
    db: tuple[psycopg.Connection[Any], Engine],
) -> None:
    conn, engine = db
    day = utc_today(conn)
    _history(conn, day)
    assert stats.verify_execution_stats(engine, day, day) == []
    fold_stats(conn)
    conn.execute("UPDATE user_execution_stats SET success_count = 99, total_cost = 0")
    diffs = stats.verify_execution_stats(engine, day, day)
    assert len(diffs) == 1
    assert (diffs[0].stats_table, diffs[0].user_id, diffs[0].day) == (
        "user_execution_stats", USER, day,
    )  # fmt: skip
    assert (diffs[0].stored["success_count"], diffs[0].expected["success_count"]) == (99, 2)
    result = stats.refresh_execution_stats(engine, day, day)
    assert [r.rows_written for r in result] == [0, 1, 0]
    assert stats.verify_execution_stats(engine, day, day) == []


def test_refresh_reflects_only_surviving_raw_rows(
    db: tuple[psycopg.Connection[Any], Engine],
) -> None:
    conn, engine = db
    day = utc_today(conn) - timedelta(days=400)
    _history(conn, day)
    fold_stats(conn)
    conn.execute("DELETE FROM agent_executions")  # retention
    assert stats.user_daily_stats(engine, USER, day, day)[0].total == 6  # history kept
    result = stats.refresh_execution_stats(engine, day, day)
    assert [(r.stats_table, r.rows_deleted) for r in result] == [
        ("agent_execution_stats", 1),
        ("user_execution_stats", 1),
        ("workflow_execution_stats", 0),
    ]
    assert stats.user_daily_stats(engine, USER, day, day)[0].total == 0


def test_nightly_check_repairs_yesterday_and_logs(
    db: tuple[psycopg.Connection[Any], Engine],
) -> None:
    conn, engine = db
    yesterday = utc_today(conn) - timedelta(days=1)
    _history(conn, yesterday)
    fold_stats(conn)
    clean = stats.check_execution_stats(engine)
    assert (clean.status, clean.day, clean.rows_checked, clean.rows_differing,
            clean.rows_repaired) == ("succeeded", yesterday, 3, 0, 0)  # fmt: skip
    conn.execute("UPDATE agent_execution_stats SET execution_count = execution_count + 5")
    conn.execute("DELETE FROM workflow_execution_stats")
    repaired = stats.check_execution_stats(engine, yesterday)
    assert (repaired.status, repaired.rows_checked, repaired.rows_differing,
            repaired.rows_repaired) == ("succeeded", 2, 2, 2)  # fmt: skip
    assert stats.verify_execution_stats(engine, yesterday, yesterday) == []
    runs = conn.execute(
        "SELECT job_name, status, counts FROM agentdb.maintenance_runs "
        "WHERE job_name = 'agentdb-execution-stats-check' ORDER BY id"
    ).fetchall()
    assert runs == [
        ("agentdb-execution-stats-check", "succeeded",
         {"day": yesterday.isoformat(), "rows_checked": 3, "rows_differing": 0,
          "rows_repaired": 0}),
        ("agentdb-execution-stats-check", "succeeded",
         {"day": yesterday.isoformat(), "rows_checked": 2, "rows_differing": 2,
          "rows_repaired": 2}),
    ]  # fmt: skip


def test_a_second_concurrent_check_is_skipped(
    db: tuple[psycopg.Connection[Any], Engine], head_url: str
) -> None:
    conn, engine = db
    holder = connect(head_url)
    try:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('agentdb-execution-stats-check'))")
        result = stats.check_execution_stats(engine)
    finally:
        holder.rollback()
        holder.close()
    assert result.status == "skipped"
    row = conn.execute(
        "SELECT status, counts->>'reason' FROM agentdb.maintenance_runs WHERE id = %s",
        (result.run_id,),
    ).fetchone()
    assert row == ("skipped", "another check is running")


def test_nightly_job_registered_at_two_utc(db: tuple[psycopg.Connection[Any], Engine]) -> None:
    conn, _ = db
    row = conn.execute(
        "SELECT schedule, command FROM agentdb.scheduled_jobs WHERE job_name = %s",
        ("agentdb-execution-stats-check",),
    ).fetchone()
    assert row == ("0 2 * * *", "SELECT agentdb.check_execution_stats()")


BAD_CALLS = [
    ("SELECT * FROM agentdb.user_dashboard(%s, 0)", "p_days must be between 1 and 3660, got 0"),
    ("SELECT * FROM agentdb.user_dashboard(%s, -5)", "p_days must be between 1 and 3660, got -5"),
    ("SELECT * FROM agentdb.user_dashboard(%s, 3661)",
     "p_days must be between 1 and 3660, got 3661"),
    ("SELECT * FROM agentdb.user_dashboard(%s, NULL)",
     "p_days must be between 1 and 3660, got NULL"),
    ("SELECT * FROM agentdb.agent_stats_summary(%s, 0)",
     "p_days must be between 1 and 3660, got 0"),
    ("SELECT * FROM agentdb.agent_stats_summary(%s, 3661)",
     "p_days must be between 1 and 3660, got 3661"),
    ("SELECT * FROM agentdb.user_daily_stats(%s, '2026-02-02', '2026-02-01')",
     "p_from (2026-02-01) must not be after p_to (2026-02-01)"),
    ("SELECT * FROM agentdb.user_daily_stats(%s, '2000-01-01', '2026-01-01')",
     "p_from..p_to must span at most 3661 days, got 9498 days"),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "message"), BAD_CALLS)
def test_bad_input_is_refused_naming_the_parameter(
    db: tuple[psycopg.Connection[Any], Engine], sql: str, message: str
) -> None:
    conn, _ = db
    with pytest.raises(psycopg.errors.InvalidParameterValue) as info:
        conn.execute(sql, (USER,))
    assert info.value.sqlstate == "22023"
    assert str(info.value).splitlines()[0] == message.replace(
        "p_from (2026-02-01)", "p_from (2026-02-02)"
    )


def test_bad_input_to_repair_routines_and_wrappers(
    db: tuple[psycopg.Connection[Any], Engine],
) -> None:
    conn, engine = db
    for function in ("refresh_execution_stats", "verify_execution_stats"):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"^p_from \(2026-02-02\)"):
            conn.execute(f"SELECT * FROM agentdb.{function}('2026-02-02', '2026-02-01')")
    with pytest.raises(ConfigurationError, match="p_days must be between 1 and 3660, got 0"):
        stats.user_dashboard(engine, USER, 0)
    with pytest.raises(ConfigurationError, match=r"p_from \(2026-02-02\) must not be after"):
        stats.user_daily_stats(engine, USER, date(2026, 2, 2), date(2026, 2, 1))
    with pytest.raises(ConfigurationError, match="p_days must be between 1 and 3660, got 3661"):
        stats.agent_stats_summary(engine, USER, 3661)


@pytest.mark.direct(reason="sets the role by a startup option, which PgBouncer ignores")
def test_app_role_reads_but_cannot_repair(
    db: tuple[psycopg.Connection[Any], Engine], head_url: str
) -> None:
    conn, _ = db
    role = f"app_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE ROLE {role} NOLOGIN IN ROLE agentdb_app")
    try:
        app = create_engine_for(head_url, connect_args={"options": f"-c role={role}"})
        try:
            assert stats.user_dashboard(app, USER).total == 0
            assert len(stats.user_daily_stats(app, USER, date(2026, 1, 1), date(2026, 1, 3))) == 3
            assert stats.agent_stats_summary(app, USER) == []
            with pytest.raises(PermissionDenied, match="agentdb_admin"):
                stats.refresh_execution_stats(app, date(2026, 1, 1), date(2026, 1, 1))
            with pytest.raises(PermissionDenied, match="agentdb_admin"):
                stats.check_execution_stats(app)
        finally:
            app.dispose()
    finally:
        conn.execute(f"DROP ROLE {role}")


@pytest.mark.direct(reason="sets TimeZone by a startup option, which PgBouncer ignores")
def test_reads_do_not_depend_on_the_session_time_zone(
    db: tuple[psycopg.Connection[Any], Engine], head_url: str
) -> None:
    conn, _ = db
    today = utc_today(conn)
    for offset in (0, 1):
        _history(conn, today - timedelta(days=offset), runs=3)
    results = []
    for zone in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12"):
        engine = create_engine_for(head_url, connect_args={"options": f"-c TimeZone={zone}"})
        try:
            results.append(
                (
                    stats.user_dashboard(engine, USER, 1),
                    stats.user_daily_stats(engine, USER, today - timedelta(days=2), today),
                    stats.agent_stats_summary(engine, USER, 1),
                )
            )
        finally:
            engine.dispose()
    assert results[0][0].total == 6
    assert results[0] == results[1] == results[2]


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


READS = {
    "user_dashboard": (
        "SELECT * FROM agentdb.user_dashboard(%(user)s, %(days)s)",
        "user_execution_stats",
    ),
    "user_daily_stats": (
        "SELECT * FROM agentdb.user_daily_stats(%(user)s, %(today)s - %(days)s, %(today)s)",
        "user_execution_stats",
    ),
    "agent_stats_summary": (
        "SELECT * FROM agentdb.agent_stats_summary(%(user)s, %(days)s)",
        "agent_execution_stats",
    ),
    "workflow_stats_now": (
        "SELECT * FROM agentdb.workflow_stats_now(%(user)s, %(today)s - %(days)s, %(today)s)",
        "workflow_execution_stats",
    ),
}
INDEXES = {
    "user_execution_stats": "pk_user_execution_stats",
    "agent_execution_stats": "pk_agent_execution_stats",
    "workflow_execution_stats": "pk_workflow_execution_stats",
    "agent_stats_deltas": "agent_stats_deltas_user_date",
    "workflow_stats_deltas": "workflow_stats_deltas_user_date",
}


MONTH = re.compile(r"_(p\d{4}_\d{2}|default|legacy)$")


@pytest.mark.parametrize("days", [1, 30])
@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.direct(reason="LOAD 'auto_explain' and SETs are session state a pooler would leak")
def test_reads_use_only_the_rollup_and_the_users_deltas(
    db: tuple[psycopg.Connection[Any], Engine], head_url: str, days: int, read: str
) -> None:
    conn, _ = db
    today = utc_today(conn)
    # 40 users x 90 days of history, half folded into the rollups and half pending,
    # so that a scan of anything but the user's key range would show
    conn.execute(
        "INSERT INTO users (id, email) SELECT gen_random_uuid(), 'u' || g || '@x.test' "
        "FROM generate_series(1, 39) g"
    )
    conn.execute(
        "INSERT INTO agents (user_id, name) SELECT id, 'agent' FROM users WHERE id <> %s", (USER,)
    )
    conn.execute(
        "INSERT INTO workflows (user_id, name, graph_definition) "
        "SELECT id, 'flow', '{}' FROM users WHERE id <> %s",
        (USER,),
    )
    for hour in (1, 2):
        conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id, status, started_at, duration_ms) "
            "SELECT a.id, a.user_id, 'completed', %s - d * interval '1 day', d "
            "FROM agents a, generate_series(0, 89) d",
            (datetime.combine(today, datetime.min.time()) + timedelta(hours=hour),),
        )
        conn.execute(
            "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at) "
            "SELECT w.id, w.user_id, 'completed', %s - d * interval '1 day' "
            "FROM workflows w, generate_series(0, 89) d",
            (datetime.combine(today, datetime.min.time()) + timedelta(hours=hour),),
        )
        if hour == 1:
            fold_stats(conn)
    conn.execute("ANALYZE")
    statement, rollup = READS[read]
    messages: list[str] = []
    with connect(head_url, autocommit=True) as probe:
        probe.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
        probe.execute("LOAD 'auto_explain'")
        probe.execute("SET auto_explain.log_min_duration = 0")
        probe.execute("SET auto_explain.log_nested_statements = on")
        probe.execute("SET auto_explain.log_analyze = on")
        probe.execute("SET auto_explain.log_format = 'json'")
        probe.execute("SET client_min_messages = log")
        for _ in range(7):  # past plpgsql's custom plans: the generic plan is checked too
            messages.clear()
            rows = probe.execute(statement, {"user": USER, "days": days, "today": today}).fetchall()
            assert rows
            nested = [
                json.loads(m.split("\n", 1)[1])["Plan"]
                for m in messages
                if rollup in m and m.startswith("duration:")
            ]
            assert len(nested) == 1
            nodes = list(_plan_nodes(nested[0]))
            # a partition of the execution history (0016) by its table's name
            scans = {MONTH.sub("", n["Relation Name"]): n for n in nodes if "Relation Name" in n}
            read_tables = {t for t, n in scans.items() if n["Actual Loops"] > 0}
            deltas = ("workflow" if rollup.startswith("workflow") else "agent") + "_stats_deltas"
            assert read_tables == {rollup, deltas}
            # the raw tables appear only for a key with a removed duration: never run here
            assert set(scans) - read_tables <= {"agent_executions", "workflow_executions"}
            for table in read_tables:
                # an Index Scan, or a Bitmap Heap Scan over a Bitmap Index Scan, of the key range
                assert INDEXES[table] in {n.get("Index Name") for n in nodes}
                assert scans[table].get("Rows Removed by Filter", 0) == 0
                assert scans[table].get("Rows Removed by Index Recheck", 0) == 0
            assert scans[rollup]["Actual Rows"] <= days + 1
            assert scans[deltas]["Actual Rows"] <= days + 1


def test_concurrent_refresh_and_writes_stay_exact(
    db: tuple[psycopg.Connection[Any], Engine], head_url: str
) -> None:
    conn, engine = db
    today = utc_today(conn)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with connect(head_url, autocommit=True) as w:
                for i in range(100):
                    w.execute(
                        "INSERT INTO agent_executions (agent_id, user_id, status, started_at, "
                        "duration_ms) VALUES (%s, %s, 'completed', %s, %s)",
                        (AGENT, USER, datetime.combine(today, datetime.min.time()), i),
                    )
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    for _ in range(10):
        stats.refresh_execution_stats(engine, today, today)
    writer.join()
    assert errors == []
    assert stats.verify_execution_stats(engine, today, today) == []
    assert stats.user_dashboard(engine, USER, 1).total == 100
