"""Issue 13, part 3: retention policies, preview, dry run, the maintenance run, stats horizon.

Generic over monthly range-partitioned tables: the fixture's public.rx and
public.rc (rc references rx, as execution_metrics references
agent_executions after revision 0012). Expected partitions are computed from
the database's now(): months whose upper bound is at or before
least(now() - keep, the first of the current month).
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from monthly_tables import ROWS, Monthly, month_start, suffix
from sqlalchemy.exc import ProgrammingError

from pyglue import cli, retention
from pyglue.dburl import connect, create_engine_for
from pyglue.errors import DatabaseError

NINETY = timedelta(days=90)


def add_policy(m: Monthly, table: str, keep: str = "90 days", premake: int = 3) -> None:
    m.conn.execute(
        "INSERT INTO agentdb.retention_policies (table_name, keep, premake) VALUES (%s, %s, %s)",
        (f"public.{table}", keep, premake),
    )


def last_run(m: Monthly) -> tuple[str, dict[str, Any], str | None]:
    row = m.conn.execute(
        "SELECT status, counts, error FROM agentdb.maintenance_runs"
        " WHERE job_name = 'agentdb-retention-maintenance' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


@pytest.mark.parametrize(
    ("table", "keep", "premake", "column", "message"),
    [
        ("rx", None, 3, "keep", "retention_policies.keep must be an interval of at least 1 day"),
        ("rx", "23 hours", 3, "keep", "not '23:00:00'"),
        ("rx", "101 years", 3, "keep", "at most 100 years"),
        ("rx", "90 days", 0, "premake", "retention_policies.premake must be a number of months"),
        ("users", "90 days", 3, "table_name", "public.users is not"),
        ("rx_list", "90 days", 3, "table_name", "public.rx_list is not"),
    ],
)
def test_bad_policy_is_refused_naming_the_column(
    monthly: Monthly, table: str, keep: str | None, premake: int, column: str, message: str
) -> None:
    monthly.conn.execute(
        "CREATE TABLE public.rx_list (k text, started_at timestamptz) PARTITION BY LIST (k)"
    )
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        monthly.conn.execute(
            "INSERT INTO agentdb.retention_policies (table_name, keep, premake)"
            " VALUES (%s, %s, %s)",
            (f"public.{table}", keep, premake),
        )
    assert message in str(caught.value)
    assert caught.value.diag.column_name == column
    # an UPDATE is checked the same way
    add_policy(monthly, "rx")
    with pytest.raises(psycopg.errors.CheckViolation, match=r"retention_policies\.keep"):
        monthly.conn.execute("UPDATE agentdb.retention_policies SET keep = NULL")


def test_preview_and_dry_run_change_nothing(monthly: Monthly) -> None:
    add_policy(monthly, "rx")
    expired = monthly.expired(NINETY)
    assert expired  # the fixture's months reach back past 90 days
    rx_parts = [f"public.rx{suffix(m)}" for m in expired]
    rc_parts = [f"public.rc{suffix(m)}" for m in expired]
    preview = retention.preview_retention(monthly.engine)
    assert [(p.table_name, p.partitions, p.rows, p.keep) for p in preview] == [
        ("public.rc", tuple(rc_parts), ROWS * len(expired), None),
        ("public.rx", tuple(rx_parts), ROWS * len(expired), NINETY),
    ]
    cutoff = preview[1].cutoff  # least(now() - keep, the first of this month)
    assert cutoff is not None
    assert monthly.now - NINETY <= cutoff <= monthly.months[-1]
    assert preview[0].cutoff is None
    before = monthly.partitions("rx"), monthly.partitions("rc")

    run = retention.run_retention_maintenance(monthly.engine, dry_run=True)
    assert run is not None
    assert run.status == "succeeded"
    assert run.dry_run
    assert retention.created(run) == {"public.rx": 3}
    assert [(t.table_name, t.partitions, t.rows) for t in retention.dropped(run)] == [
        ("public.rc", tuple(rc_parts), ROWS * len(expired)),
        ("public.rx", tuple(rx_parts), ROWS * len(expired)),
    ]
    assert (monthly.partitions("rx"), monthly.partitions("rc")) == before


def test_run_drops_children_first_creates_ahead_and_logs(monthly: Monthly) -> None:
    add_policy(monthly, "rx")
    expired = monthly.expired(NINETY)
    kept = [m for m in monthly.months if m not in expired]
    ahead = [month_start(monthly.now, -k) for k in (1, 2, 3)]
    run = retention.run_retention_maintenance(monthly.engine)
    assert run is not None
    assert run.status == "succeeded", run
    assert run.counts["upkeep_method"] == "agentdb"
    assert retention.created(run) == {"public.rx": 3}
    assert [(t.table_name, len(t.partitions), t.rows) for t in retention.dropped(run)] == [
        ("public.rc", len(expired), ROWS * len(expired)),
        ("public.rx", len(expired), ROWS * len(expired)),
    ]
    assert monthly.partitions("rx") == [f"rx{suffix(m)}" for m in kept + ahead]
    # rc has no policy: it lost only the months of rx it referenced, and gets no upkeep
    assert monthly.partitions("rc") == [f"rc{suffix(m)}" for m in kept]
    assert monthly.count("rx") == monthly.count("rc") == ROWS * len(kept)
    # a second run has nothing left to do
    again = retention.run_retention_maintenance(monthly.engine)
    assert again is not None
    assert again.status == "succeeded"
    assert retention.created(again) == {"public.rx": 0}
    assert retention.dropped(again) == ()


def test_the_current_month_is_never_dropped(monthly: Monthly) -> None:
    add_policy(monthly, "rx", keep="1 day")
    add_policy(monthly, "rc", keep="1 day")
    run = retention.run_retention_maintenance(monthly.engine)
    assert run is not None
    assert run.status == "succeeded"
    current = monthly.months[-1]
    ahead = [month_start(monthly.now, -k) for k in (1, 2, 3)]
    for table in ("rx", "rc"):
        assert monthly.partitions(table) == [f"{table}{suffix(m)}" for m in [current, *ahead]]
    assert monthly.count("rx") == ROWS
    for month in (current, ahead[0]):
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="never dropped"):
            monthly.conn.execute("SELECT * FROM agentdb.drop_expired_partitions(%s)", (month,))
    assert monthly.partitions("rx")[0] == f"rx{suffix(current)}"


def test_a_drop_gives_up_at_the_lock_timeout_and_the_next_run_retries(monthly: Monthly) -> None:
    add_policy(monthly, "rx")
    add_policy(monthly, "rc")
    expired = monthly.expired(NINETY)
    before = monthly.partitions("rx")
    reader = connect(monthly.engine.url.render_as_string(hide_password=False)
                     .replace("postgresql+psycopg", "postgresql"))  # fmt: skip
    try:
        # the oldest month only (upkeep, which locks public.rx, goes on): held until rollback
        reader.execute(f"SELECT count(*) FROM public.rx{suffix(expired[0])}")
        with pytest.raises(DatabaseError, match="canceling statement due to lock timeout"):
            retention.run_retention_maintenance(
                monthly.engine, lock_timeout=timedelta(milliseconds=100)
            )
        status, counts, error = last_run(monthly)
        assert status == "failed"
        assert error is not None
        assert error.endswith("[SQLSTATE 55P03]")
        assert counts["dropped"] == {}
        # upkeep had COMMITted; the expired months are all still there
        assert counts["created"] == {"public.rc": 3, "public.rx": 3}
        assert [p for p in monthly.partitions("rx") if p in before] == before
    finally:
        reader.close()
    run = retention.run_retention_maintenance(monthly.engine)
    assert run is not None
    assert run.status == "succeeded"
    assert sum(len(t.partitions) for t in retention.dropped(run)) == 2 * len(expired)


def test_a_concurrent_run_is_skipped(monthly: Monthly) -> None:
    add_policy(monthly, "rx")
    holder = connect(monthly.engine.url.render_as_string(hide_password=False)
                     .replace("postgresql+psycopg", "postgresql"), autocommit=True)  # fmt: skip
    try:
        holder.execute(
            "SELECT pg_advisory_lock(('x' || substr(md5('agentdb-retention-maintenance'),"
            " 1, 16))::bit(64)::bigint)"
        )
        run = retention.run_retention_maintenance(monthly.engine)
        assert run is not None
        assert run.status == "skipped"
    finally:
        holder.close()
    assert monthly.partitions("rx")[0] == f"rx{suffix(monthly.months[0])}"


def test_cli_maintain_retention(monthly: Monthly, capsys: pytest.CaptureFixture[str]) -> None:
    add_policy(monthly, "rx")
    expired = monthly.expired(NINETY)
    url = monthly.engine.url.render_as_string(hide_password=False)
    assert cli.main(["maintain", "retention", "--dry-run", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "(dry run: nothing changed)" in out
    assert "would create partitions ahead (agentdb): public.rx 3" in out
    names = ", ".join(f"public.rx{suffix(m)}" for m in expired)
    assert f"would drop public.rx: {names} ({ROWS * len(expired)} rows, " in out
    assert cli.main(["maintain", "retention", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert f"\n  drop public.rx: {names} ({ROWS * len(expired)} rows, " in out


def test_the_job_is_registered_daily(monthly: Monthly) -> None:
    row = monthly.conn.execute(
        "SELECT schedule, command FROM agentdb.scheduled_jobs"
        " WHERE job_name = 'agentdb-retention-maintenance'"
    ).fetchone()
    assert row == ("15 4 * * *", "CALL agentdb.run_retention_maintenance()")


def test_the_execution_tables_are_seeded_with_90_days_and_3_months_ahead(head_url: str) -> None:
    with connect(head_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name::text, keep, premake, enabled, dropped_before"
            " FROM agentdb.retention_policies ORDER BY 1"
        ).fetchall()
        assert rows == [
            (table, timedelta(days=90), 3, True, None)
            for table in ("agent_executions", "execution_metrics", "workflow_executions")
        ]
        assert conn.execute("SELECT agentdb.retention_horizon()").fetchone() == (None,)


def test_writes_to_the_current_month_go_on_during_a_run(monthly: Monthly) -> None:
    """A writer inserting into the current month while the run drops old months never fails."""
    add_policy(monthly, "rx")
    errors: list[BaseException] = []
    stop = threading.Event()
    url = monthly.engine.url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg", "postgresql"
    )

    def write() -> None:
        try:
            with connect(url, autocommit=True) as writer:
                i = 1000
                while not stop.is_set():
                    writer.execute("INSERT INTO public.rx VALUES (%s, now())", (i,))
                    i += 1
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        run = retention.run_retention_maintenance(monthly.engine)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert run is not None
    assert run.status == "succeeded"


def test_results_do_not_depend_on_the_session_time_zone(monthly: Monthly) -> None:
    add_policy(monthly, "rx")
    utc = monthly.conn.execute("SELECT * FROM agentdb.expired_partitions()").fetchall()
    monthly.conn.execute("SET timezone = 'Pacific/Kiritimati'")  # UTC+14
    assert monthly.conn.execute("SELECT * FROM agentdb.expired_partitions()").fetchall() == utc
    bounds = monthly.conn.execute(
        "SELECT lower_bound FROM agentdb.monthly_partitions('public.rx')"
    ).fetchall()
    assert [b[0] for b in bounds] == monthly.months
    made = monthly.conn.execute("SELECT agentdb.create_partitions_ahead('public.rx', 1)").fetchone()
    assert made == (1,)
    assert monthly.partitions("rx")[-1] == f"rx{suffix(month_start(monthly.now, -1))}"


def test_agentdb_admin_runs_retention_without_table_privileges(monthly: Monthly) -> None:
    name = f"retention_admin_{uuid.uuid4().hex[:8]}"
    monthly.conn.execute(f"CREATE ROLE {name} LOGIN IN ROLE agentdb_admin")
    try:
        url = monthly.engine.url.set(username=name)
        engine = create_engine_for(url.render_as_string(hide_password=False))
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO agentdb.retention_policies (table_name) VALUES ('public.rx')"
                )
            run = retention.run_retention_maintenance(engine)
            assert run is not None
            assert run.status == "succeeded"
            expired = monthly.expired(NINETY)
            assert len(retention.dropped(run)[1].partitions) == len(expired)
            with pytest.raises(ProgrammingError, match="must be owner"), engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE public.rx_p" + f"{monthly.months[-1]:%Y_%m}")
        finally:
            engine.dispose()
    finally:
        monthly.conn.execute(f"DROP OWNED BY {name}")
        monthly.conn.execute(f"DROP ROLE {name}")
