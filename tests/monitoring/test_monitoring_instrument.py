"""pyglue.monitoring.instrument on a real database: slow log, persistence, N+1, bad input."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from pyglue.dburl import create_async_engine_for, create_engine_for
from pyglue.errors import ConfigurationError
from pyglue.monitoring import instrument, instrumentation_for, uninstrument

SECRET = "s3cr3t-tag-4242"  # noqa: S105 - a value that must never be logged
SLEEP = text("SELECT pg_sleep(:seconds), :tag AS tag")
SLEEP_SHAPE = "SELECT pg_sleep(?), ? AS tag"
LOGGER = "pyglue.monitoring"


@pytest.fixture
def fresh_engine(head_url: str) -> Iterator[Engine]:
    eng = create_engine_for(head_url)
    try:
        yield eng
    finally:
        uninstrument(eng)
        eng.dispose()


def _monitoring_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def test_slow_statement_is_logged_and_counted_without_parameters(
    fresh_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    inst = instrument(fresh_engine, slow_query_ms=300)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    with fresh_engine.connect() as conn:
        conn.execute(text("SELECT :tag AS fast"), {"tag": SECRET})
        conn.execute(SLEEP, {"seconds": 0.31, "tag": SECRET})
    records = _monitoring_records(caplog)
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("slow statement: ")
    assert record.getMessage().endswith(f"(threshold 300 ms): {SLEEP_SHAPE}")
    assert record.statement == SLEEP_SHAPE  # type: ignore[attr-defined]
    assert record.duration_ms >= 310  # type: ignore[attr-defined]
    assert SECRET not in caplog.text
    assert all(SECRET not in str(value) for value in vars(record).values())

    slow = inst.stats.shape(SLEEP_SHAPE)
    assert (slow.count, slow.slow) == (1, 1)
    assert slow.max_ms is not None
    assert slow.max_ms >= 310
    fast = inst.stats.shape("SELECT ? AS fast")
    assert (fast.count, fast.slow) == (1, 0)
    overall = inst.summary("1h")
    assert (overall.count, overall.slow) == (2, 1)
    assert inst.cumulative().count == 2


def test_slow_statements_are_persisted_without_parameters(fresh_engine: Engine) -> None:
    inst = instrument(fresh_engine, slow_query_ms=300, persist_slow_queries=True)
    with fresh_engine.begin() as conn:
        conn.execute(SLEEP, {"seconds": 0.31, "tag": SECRET})
        # buffered, not written inside the app's transaction
        assert inst.pending == 1
    assert inst.pending == 0  # flushed when the connection went back to the pool
    with fresh_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT statement, duration_ms, database_user FROM agentdb.slow_queries")
        ).all()
        assert conn.execute(text("SELECT count(*) FROM agentdb.slow_queries")).scalar() == 1
    assert len(rows) == 1
    statement, duration_ms, user = rows[0]
    assert (statement, user) == (SLEEP_SHAPE, "postgres")
    assert duration_ms >= 310
    assert SECRET not in repr(rows)
    assert inst.persist_failures == 0


def test_slow_statement_survives_a_rollback(fresh_engine: Engine) -> None:
    instrument(fresh_engine, slow_query_ms=300, persist_slow_queries=True)
    with fresh_engine.connect() as conn:
        conn.execute(SLEEP, {"seconds": 0.31, "tag": SECRET})
        conn.rollback()
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agentdb.slow_queries")).scalar() == 1


def test_persisting_without_agentdb_warns_once_and_keeps_the_app_running(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine_for(empty_url)
    try:
        inst = instrument(engine, slow_query_ms=300, persist_slow_queries=True)
        caplog.set_level(logging.WARNING, logger=LOGGER)
        for _ in range(2):
            with engine.connect() as conn:
                conn.execute(SLEEP, {"seconds": 0.31, "tag": SECRET})
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
        messages = [r.getMessage() for r in _monitoring_records(caplog)]
        assert len([m for m in messages if m.startswith("slow statement")]) == 2
        failures = [m for m in messages if m.startswith("could not write")]
        assert len(failures) == 1
        assert "could not write 1 slow statements to agentdb.slow_queries" in failures[0]
        assert inst.persist_failures == 2
        assert SECRET not in caplog.text
    finally:
        uninstrument(engine)
        engine.dispose()


def test_n_plus_one_warns_exactly_above_the_threshold(
    fresh_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    inst = instrument(fresh_engine, n_plus_one_threshold=3)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    lookup = text("SELECT email FROM public.users WHERE email = :id")
    with fresh_engine.connect() as conn:  # exactly the threshold: fine
        for _ in range(3):
            conn.execute(lookup, {"id": SECRET})
    assert _monitoring_records(caplog) == []

    with fresh_engine.connect() as conn:  # one more: one warning, at the end of the unit
        for _ in range(4):
            conn.execute(lookup, {"id": SECRET})
        conn.execute(text("SELECT 1"))
        assert _monitoring_records(caplog) == []
    (record,) = _monitoring_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "N+1 suspect: one unit of work ran the same statement 4 times "
        "(n_plus_one_threshold 3): SELECT email FROM public.users WHERE email = ?"
    )
    assert record.count == 4  # type: ignore[attr-defined]
    assert inst.cumulative().n_plus_one_warnings == 1
    assert SECRET not in caplog.text


def test_n_plus_one_unit_is_a_session_transaction(
    fresh_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    instrument(fresh_engine, n_plus_one_threshold=2)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    lookup = text("SELECT count(*) FROM public.agents WHERE user_id IS NULL OR name = :name")
    with Session(fresh_engine) as session:
        for _ in range(2):
            session.execute(lookup, {"name": "a"})
        session.commit()  # the transaction ends: the connection goes back, a new unit starts
        for _ in range(2):
            session.execute(lookup, {"name": "b"})
        session.commit()
    assert _monitoring_records(caplog) == []
    with Session(fresh_engine) as session, session.begin():
        for _ in range(3):
            session.execute(lookup, {"name": "c"})
    (record,) = _monitoring_records(caplog)
    assert "ran the same statement 3 times (n_plus_one_threshold 2)" in record.getMessage()


def test_async_engine_is_timed_and_counted(head_url: str) -> None:
    engine = create_async_engine_for(head_url)
    inst = instrument(engine, n_plus_one_threshold=5)

    async def run() -> None:
        async with engine.connect() as conn:
            for i in range(3):
                await conn.execute(text("SELECT :i AS async_probe"), {"i": i})
        await engine.dispose()

    try:
        asyncio.run(run())
        assert inst.stats.shape("SELECT ? AS async_probe").count == 3
    finally:
        uninstrument(engine)


def test_uninstrument_stops_timing(fresh_engine: Engine) -> None:
    inst = instrument(fresh_engine)
    with fresh_engine.connect() as conn:
        conn.execute(text("SELECT 1 AS probe"))
    uninstrument(fresh_engine)
    assert instrumentation_for(fresh_engine) is None
    with fresh_engine.connect() as conn:  # the pooled connection keeps the cursor class
        conn.execute(text("SELECT 1 AS probe"))
    assert inst.cumulative().count == 1
    again = instrument(fresh_engine)
    with fresh_engine.connect() as conn:
        conn.execute(text("SELECT 1 AS probe"))
    assert (inst.cumulative().count, again.cumulative().count) == (1, 1)


def test_bad_input(fresh_engine: Engine) -> None:
    with pytest.raises(ValueError, match="slow_query_ms must be a number of milliseconds >= 0"):
        instrument(fresh_engine, slow_query_ms=-1)
    with pytest.raises(ValueError, match="slow_query_ms"):
        instrument(fresh_engine, slow_query_ms="1000")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"n_plus_one_threshold must be None \(off\) or an integer"
    ):
        instrument(fresh_engine, n_plus_one_threshold=0)
    with pytest.raises(ValueError, match="n_plus_one_threshold"):
        instrument(fresh_engine, n_plus_one_threshold=True)
    with pytest.raises(ValueError, match="max_shapes must be an integer >= 1"):
        instrument(fresh_engine, max_shapes=0)
    with pytest.raises(
        TypeError, match="engine must be a SQLAlchemy Engine or AsyncEngine, not str"
    ):
        instrument("postgresql://x")
    sqlite = create_engine("sqlite://")
    with pytest.raises(ConfigurationError, match="psycopg driver, not pysqlite"):
        instrument(sqlite)
    async_engine = create_async_engine_for(fresh_engine.url)
    with pytest.raises(ValueError, match="persist_slow_queries=True needs a sync Engine"):
        instrument(async_engine, persist_slow_queries=True)
    assert instrumentation_for(fresh_engine) is None
    instrument(fresh_engine)
    with pytest.raises(ConfigurationError, match="instrumented already"):
        instrument(fresh_engine)


def test_every_execution_is_counted_across_batches(fresh_engine: Engine) -> None:
    inst = instrument(fresh_engine, n_plus_one_threshold=2000)
    with fresh_engine.connect() as conn:
        for i in range(1300):  # more than two internal batches
            conn.execute(text("SELECT :i AS batch_probe"), {"i": i})
        conn.execute(text("SELECT 'literal' AS batch_probe"))  # same shape, other text
        assert inst.stats.shape("SELECT ? AS batch_probe").count == 1301
    assert inst.cumulative().count == 1301
    assert inst.summary("24h").count == 1301


def test_n_plus_one_counts_shapes_not_texts(
    fresh_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    instrument(fresh_engine, n_plus_one_threshold=2)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with fresh_engine.connect() as conn:
        for literal in ("'a'", "'b'", "'c'"):  # three texts, one shape
            conn.execute(text(f"SELECT count(*) FROM public.users WHERE email = {literal}"))
    (record,) = _monitoring_records(caplog)
    assert record.getMessage().endswith(
        "ran the same statement 3 times (n_plus_one_threshold 2): "
        "SELECT count(*) FROM public.users WHERE email = ?"
    )
