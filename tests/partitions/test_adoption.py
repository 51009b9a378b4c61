"""Issue 13, part 4: revision 0016 adopts populated execution tables online, resumably."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from dbcheck import table_checksums

from pyglue import install
from pyglue.dburl import connect, create_engine_for
from pyglue.partition_adoption import STAGING, adopt, is_partitioned
from pyglue.sqlfiles import read_frozen

EXECUTION_TABLES = ("workflow_executions", "agent_executions", "execution_metrics")
# what revision 0016 runs: its frozen copies (the live execution_tables.sql
# has the user_id 0020 added to execution_metrics)
REVISION_0016 = install.script_directory().get_revision("0016").module


def _adopt(url: str, **options: Any) -> None:
    with connect(url, autocommit=True) as conn:
        adopt(
            conn,
            "".join(
                read_frozen("0016", name, pin)
                for name, pin in REVISION_0016.PARTITIONED_TABLES.items()
            ),
            [read_frozen("0016", name, pin) for name, pin in REVISION_0016.AFTER_SWAP.items()],
            **options,
        )


def _partitions(conn: psycopg.Connection[Any], table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        (f"public.{table}",),
    ).fetchall()
    return {str(name): str(bound) for name, bound in rows}


@pytest.fixture
def at_0015(populated_baseline_url: str) -> str:
    install.upgrade(create_engine_for(populated_baseline_url), "0015")
    return populated_baseline_url


METRICS = "INSERT INTO execution_metrics (execution_id, total_tokens) VALUES (%s, 7)"
METRICS_WITH_STARTED_AT = (
    "INSERT INTO execution_metrics (execution_id, started_at, total_tokens)"
    " SELECT id, started_at, 7 FROM agent_executions WHERE id = %s"
)


def _writer(url: str, stop: threading.Event, written: list[uuid.UUID], errors: list[str]) -> None:
    """One app connection writing runs with metrics as fast as it can, all through the adoption."""
    with connect(url, autocommit=True) as conn:
        user, agent = conn.execute("SELECT user_id, id FROM agents LIMIT 1").fetchone() or (0, 0)
        while not stop.is_set():
            run = uuid.uuid4()
            try:
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO agent_executions (id, agent_id, user_id, status, duration_ms)"
                        " VALUES (%s, %s, %s, 'completed', 5)",
                        (run, agent, user),
                    )
                    # before the swap a trigger fills started_at; after it, the app gives it
                    conn.execute(
                        METRICS_WITH_STARTED_AT if _has_metrics_started_at(conn) else METRICS,
                        (run,),
                    )
                written.append(run)
            except psycopg.Error as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.002)


def _has_metrics_started_at(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.execution_metrics'::regclass"
        " AND attname = 'started_at' AND NOT attisdropped"
    ).fetchone()
    return row is not None and bool(row[0])


def test_adoption_keeps_every_row_while_the_platform_writes(at_0015: str) -> None:
    before = table_checksums(at_0015, EXECUTION_TABLES)
    stop, written, errors = threading.Event(), list[uuid.UUID](), list[str]()
    writer = threading.Thread(target=_writer, args=(at_0015, stop, written, errors))
    writer.start()
    try:
        install.upgrade(create_engine_for(at_0015), "head")
    finally:
        stop.set()
        writer.join()
    assert errors == []
    assert len(written) > 0
    with connect(at_0015, autocommit=True) as conn:
        assert is_partitioned(conn)
        assert conn.execute("SELECT to_regnamespace(%s)", (STAGING,)).fetchone() == (None,)
        for table in EXECUTION_TABLES:
            partitions = _partitions(conn, table)
            assert partitions[f"{table}_legacy"].startswith("FOR VALUES FROM (MINVALUE) TO ('")
            assert partitions[f"{table}_default"] == "DEFAULT"
        # every row from before, and every row the writer committed during it
        found = conn.execute(
            "SELECT count(*) FROM agent_executions e JOIN execution_metrics m"
            " ON m.execution_id = e.id AND m.started_at = e.started_at"
            " WHERE e.id = ANY(%s)",
            (written,),
        ).fetchone()
        assert found == (len(written),)
        assert conn.execute(
            "SELECT count(*) FROM agentdb.verify_execution_stats('2000-01-01', '2100-01-01')"
        ).fetchone() == (0,)
    after = table_checksums(at_0015, EXECUTION_TABLES)
    assert after["workflow_executions"] == before["workflow_executions"]
    assert after["agent_executions"][0] == before["agent_executions"][0] + len(written)
    assert after["execution_metrics"][0] == before["execution_metrics"][0] + len(written)


def test_an_interrupted_adoption_resumes_where_it_stopped(at_0015: str) -> None:
    before = table_checksums(at_0015, EXECUTION_TABLES)
    with connect(at_0015) as blocker:
        # an app transaction holding the table: the attach cannot get its lock
        blocker.execute("SELECT count(*) FROM agent_executions")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _adopt(at_0015, lock_timeout="50ms", retries=0)
        blocker.rollback()
    with connect(at_0015, autocommit=True) as conn:
        assert not is_partitioned(conn)
        assert conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (STAGING,)).fetchone() == (
            True,
        )
    install.upgrade(create_engine_for(at_0015), "head")
    with connect(at_0015, autocommit=True) as conn:
        assert is_partitioned(conn)
    assert table_checksums(at_0015, EXECUTION_TABLES) == before


def test_a_batch_size_under_one_is_refused(at_0015: str) -> None:
    with pytest.raises(ValueError, match="batch must be a positive number of rows, not 0"):
        _adopt(at_0015, batch=0)
