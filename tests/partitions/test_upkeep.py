"""Issue 13, part 2: partition upkeep each way, with pg_partman 4.7 and without it.

Both ways leave the same partitions: the current month and `premake` months
ahead, named <table>_pYYYY_MM, bounds the first of a month UTC, no default
partition; retention then drops expired months the same way (agentdb drops
in both modes: pg_partman's retention cannot drop a partition a foreign key
depends on, shown below).
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from monthly_tables import ROWS, Monthly, month_start, suffix

from pyglue import retention


def partman(m: Monthly) -> None:
    row = m.conn.execute(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_partman'"
    ).fetchone()
    if row != (1,):
        pytest.skip("pg_partman is not installed on this machine (Debian postgresql-15-partman)")
    m.conn.execute("CREATE SCHEMA partman")
    m.conn.execute("CREATE EXTENSION pg_partman SCHEMA partman")


def bounds(m: Monthly, table: str) -> list[tuple[str, str]]:
    rows = m.conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY 1",
        (f"public.{table}",),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def expected_bounds(m: Monthly, table: str, premake: int) -> list[tuple[str, str]]:
    months = [*m.months, *(month_start(m.now, -k) for k in range(1, premake + 1))]
    return [
        (
            f"{table}{suffix(month)}",
            f"FOR VALUES FROM ('{month:%Y-%m-%d} 00:00:00+00')"
            f" TO ('{month_start(month, -1):%Y-%m-%d} 00:00:00+00')",
        )
        for month in months
    ]


@pytest.mark.parametrize("with_partman", [False, True], ids=["agentdb", "pg_partman"])
def test_upkeep_creates_the_same_partitions_each_way(monthly: Monthly, with_partman: bool) -> None:
    if with_partman:
        partman(monthly)
    assert monthly.conn.execute("SELECT agentdb.partman_available()").fetchone() == (with_partman,)
    monthly.conn.execute(
        "INSERT INTO agentdb.retention_policies (table_name, keep, premake) VALUES"
        " ('public.rx', '10 years', 4), ('public.rc', '10 years', 2)"
    )
    run = retention.run_retention_maintenance(monthly.engine)
    assert run is not None
    assert run.status == "succeeded"
    assert run.counts["upkeep_method"] == ("pg_partman" if with_partman else "agentdb")
    assert retention.created(run) == {"public.rc": 2, "public.rx": 4}
    assert bounds(monthly, "rx") == expected_bounds(monthly, "rx", 4)
    assert bounds(monthly, "rc") == expected_bounds(monthly, "rc", 2)
    if with_partman:
        config = monthly.conn.execute(
            "SELECT parent_table, control, partition_interval, premake, retention,"
            " datetime_string FROM partman.part_config ORDER BY 1"
        ).fetchall()
        assert config == [
            ("public.rc", "started_at", "1 mon", 2, None, "YYYY_MM"),
            ("public.rx", "started_at", "1 mon", 4, None, "YYYY_MM"),
        ]
        # pg_partman's own maintenance (what a DBA's pg_cron job would run) agrees
        monthly.conn.execute("SELECT partman.run_maintenance(p_jobmon := false)")
        assert bounds(monthly, "rx") == expected_bounds(monthly, "rx", 4)
    # the next run has nothing to create
    again = retention.run_retention_maintenance(monthly.engine)
    assert again is not None
    assert retention.created(again) == {"public.rc": 0, "public.rx": 0}
    assert monthly.count("rx") == ROWS * len(monthly.months)


@pytest.mark.parametrize("with_partman", [False, True], ids=["agentdb", "pg_partman"])
def test_retention_drops_the_same_months_each_way(monthly: Monthly, with_partman: bool) -> None:
    if with_partman:
        partman(monthly)
    monthly.conn.execute(
        "INSERT INTO agentdb.retention_policies (table_name, keep) VALUES"
        " ('public.rx', '90 days'), ('public.rc', '90 days')"
    )
    expired = monthly.expired(timedelta(days=90))
    run = retention.run_retention_maintenance(monthly.engine)
    assert run is not None
    assert run.status == "succeeded"
    assert [(t.table_name, t.partitions) for t in retention.dropped(run)] == [
        (f"public.{table}", tuple(f"public.{table}{suffix(m)}" for m in expired))
        for table in ("rc", "rx")
    ]


def test_pg_partman_retention_cannot_drop_a_referenced_partition(monthly: Monthly) -> None:
    """Why pg_partman's retention stays off: it DROPs without DETACHing first."""
    partman(monthly)
    monthly.conn.execute(
        "INSERT INTO partman.part_config (parent_table, control, partition_type,"
        " partition_interval, premake, retention, retention_keep_table, datetime_string,"
        " infinite_time_partitions, jobmon) VALUES"
        " ('public.rc', 'started_at', 'native', '1 mon', 3, '90 days', false, 'YYYY_MM', true,"
        " false), ('public.rx', 'started_at', 'native', '1 mon', 3, '90 days', false, 'YYYY_MM',"
        " true, false)"
    )
    with pytest.raises(psycopg.errors.RaiseException, match="other objects depend on it"):
        monthly.conn.execute("SELECT partman.run_maintenance('public.rx', p_jobmon := false)")
