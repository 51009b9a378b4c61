"""count_queries, pool_status, performance_stats, the decorator and the Prometheus collector."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue.dburl import create_async_engine_for, create_engine_for
from pyglue.errors import ConfigurationError
from pyglue.monitoring import (
    count_queries,
    instrument,
    measure_query_performance,
    performance_stats,
    pool_status,
    prometheus_collector,
    uninstrument,
)
from pyglue.monitoring.stats import RollingStats

LOGGER = "pyglue.monitoring"


@pytest.fixture
def pooled(head_url: str) -> Iterator[Engine]:
    eng = create_engine_for(head_url, pool_size=2, max_overflow=1)
    try:
        yield eng
    finally:
        uninstrument(eng)
        eng.dispose()


# -- count_queries ---------------------------------------------------------------


def test_count_queries_counts_exactly_on_an_engine(pooled: Engine) -> None:
    with pooled.connect() as conn:
        conn.execute(text("SELECT 0"))  # before the block: not counted
        with count_queries(pooled) as counter:
            conn.execute(text("SELECT :a AS one"), {"a": 1})
            with pooled.connect() as other:  # every connection of the engine counts
                other.execute(text("SELECT 2 AS two"))
            with Session(pooled) as session:
                session.execute(text("SELECT 3 AS three"))
            with pytest.raises(ProgrammingError):
                conn.execute(text("SELECT * FROM no_such_table"))  # failed: it still counts
            conn.rollback()
        conn.execute(text("SELECT 4"))  # after the block: not counted
    assert counter.count == 4
    assert counter.statements == [
        "SELECT %(a)s AS one",
        "SELECT 2 AS two",
        "SELECT 3 AS three",
        "SELECT * FROM no_such_table",
    ]
    assert counter.shapes[0] == "SELECT ? AS one"


def test_count_queries_on_one_connection_ignores_the_others(pooled: Engine) -> None:
    with pooled.connect() as conn, pooled.connect() as other:
        with count_queries(conn) as counter:
            conn.execute(text("SELECT 1"))
            other.execute(text("SELECT 2"))
            conn.execute(text("SELECT 3"))
        assert counter.count == 2
        assert counter.statements == ["SELECT 1", "SELECT 3"]


def test_count_queries_on_async_engine(head_url: str) -> None:
    engine = create_async_engine_for(head_url)

    async def run() -> int:
        with count_queries(engine) as counter:
            async with engine.connect() as conn:
                for i in range(3):
                    await conn.execute(text("SELECT :i"), {"i": i})
        await engine.dispose()
        return counter.count

    assert asyncio.run(run()) == 3


def test_count_queries_bad_input() -> None:
    with (
        pytest.raises(
            TypeError, match="engine_or_connection must be a SQLAlchemy Engine, Connection"
        ),
        count_queries("postgresql://x"),
    ):
        pass


# -- pool_status -----------------------------------------------------------------


def test_pool_numbers_follow_checkouts_exactly(pooled: Engine) -> None:
    def numbers() -> tuple[int, int, int, float | None]:
        s = pool_status(pooled)
        assert (s.pool_class, s.size, s.max_overflow, s.exact) == ("QueuePool", 2, 1, True)
        return s.checked_out, s.checked_in, s.overflow, s.utilization

    assert numbers() == (0, 0, 0, 0.0)
    c1 = pooled.connect()
    assert numbers() == (1, 0, 0, 1 / 3)
    c2 = pooled.connect()
    c3 = pooled.connect()  # beyond pool_size: an overflow connection
    assert numbers() == (3, 0, 1, 1.0)
    c3.close()
    assert numbers() == (2, 1, 1, 2 / 3)
    c2.close()
    assert numbers() == (1, 2, 1, 1 / 3)
    c1.close()  # the pool is full: this one is closed, the overflow goes
    assert numbers() == (0, 2, 0, 0.0)
    with pooled.connect():
        assert numbers() == (1, 1, 0, 1 / 3)
    assert numbers() == (0, 2, 0, 0.0)


def test_pool_status_of_other_pools(head_url: str) -> None:
    engine = create_engine_for(head_url, poolclass=NullPool)
    try:
        status = pool_status(engine)
        assert (status.pool_class, status.checked_out, status.exact) == ("NullPool", 0, False)
        instrument(engine)
        with engine.connect(), engine.connect():
            status = pool_status(engine)
            assert (status.checked_out, status.utilization, status.exact) == (2, None, True)
        assert pool_status(engine).checked_out == 0
    finally:
        uninstrument(engine)
        engine.dispose()
    with pytest.raises(TypeError, match="engine must be a SQLAlchemy Engine or AsyncEngine"):
        pool_status(None)


# -- performance_stats -----------------------------------------------------------


def test_performance_stats_payload(pooled: Engine) -> None:
    with pytest.raises(
        ConfigurationError, match=r"not instrumented: call pyglue\.monitoring\.instrument"
    ):
        performance_stats(pooled)
    instrument(pooled, slow_query_ms=300)
    with pooled.connect() as conn:
        for i in range(3):
            conn.execute(text("SELECT :i AS probe"), {"i": i})
        conn.execute(text("SELECT pg_sleep(0.31)"))
        stats = performance_stats(pooled, top=2)
    assert (stats.queries_24h, stats.slow_queries_24h, stats.window) == (4, 1, "24h")
    assert stats.db_pool_status.checked_out == 1  # taken inside the `with`
    assert stats.avg_query_time_ms is not None
    assert stats.avg_query_time_ms >= 310 / 4
    assert [(s.shape, s.count, s.slow) for s in stats.top_statements] == [
        ("SELECT pg_sleep(?)", 1, 1),
        ("SELECT ? AS probe", 3, 0),
    ]
    payload = stats.as_dict()
    assert list(payload)[:3] == ["avg_query_time_ms", "slow_queries_24h", "queries_24h"]
    assert payload["db_pool_status"]["size"] == 2
    assert payload["top_statements"][1]["count"] == 3
    with pytest.raises(ValueError, match="top must be an integer between 1 and 1000, not 0"):
        performance_stats(pooled, top=0)
    with pytest.raises(ValueError, match="window must be one of 1h, 24h"):
        performance_stats(pooled, window="1d")


# -- measure_query_performance ---------------------------------------------------


def test_decorator_times_sync_and_async_functions(caplog: pytest.LogCaptureFixture) -> None:
    stats = RollingStats()
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    @measure_query_performance(slow_ms=10, stats=stats)
    def slow_lookup(secret: str) -> str:
        time.sleep(0.02)
        return secret.upper()

    @measure_query_performance(slow_ms=10_000, stats=stats)
    async def fast_lookup(secret: str) -> str:
        await asyncio.sleep(0)
        return secret

    @measure_query_performance(stats=stats)
    def failing() -> None:
        raise KeyError("boom")

    assert slow_lookup("hidden-arg") == "HIDDEN-ARG"
    assert slow_lookup.__name__ == "slow_lookup"
    assert asyncio.run(fast_lookup("hidden-arg")) == "hidden-arg"
    with pytest.raises(KeyError):
        failing()
    prefix = f"{__name__}.test_decorator_times_sync_and_async_functions.<locals>"
    assert stats.shape(f"{prefix}.slow_lookup").count == 1
    assert stats.shape(f"{prefix}.slow_lookup").slow == 1
    assert stats.shape(f"{prefix}.fast_lookup").count == 1
    assert stats.shape(f"{prefix}.failing").count == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(" took ")[0] for r in warnings] == [
        f"slow call: {prefix}.slow_lookup"
    ]
    assert "hidden-arg" not in caplog.text


def test_decorator_bare_form_and_bad_input() -> None:
    @measure_query_performance
    def plain() -> int:
        return 7

    assert plain() == 7
    with pytest.raises(ValueError, match="slow_ms must be a number of milliseconds >= 0, not -5"):
        measure_query_performance(slow_ms=-5)
    with pytest.raises(TypeError, match="decorates a function"):
        measure_query_performance(42)  # type: ignore[call-overload]


# -- Prometheus --------------------------------------------------------------------


def test_prometheus_text_parses_with_exact_counts(pooled: Engine) -> None:
    instrument(pooled, slow_query_ms=300)
    registry = CollectorRegistry()
    collector = prometheus_collector(pooled, registry=registry)
    with pooled.connect() as conn:
        for i in range(5):
            conn.execute(text("SELECT :i AS probe"), {"i": i})
        conn.execute(text("SELECT pg_sleep(0.31)"))
        families = {
            f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
        }
    assert set(families) == {
        "pyglue_db_query_duration_seconds",
        "pyglue_db_slow_queries",
        "pyglue_db_n_plus_one_warnings",
        "pyglue_db_pool_size",
        "pyglue_db_pool_checked_out",
        "pyglue_db_pool_checked_in",
        "pyglue_db_pool_overflow",
        "pyglue_db_pool_utilization",
    }
    histogram = families["pyglue_db_query_duration_seconds"]
    assert histogram.type == "histogram"
    samples = {(s.name, s.labels.get("le")): s.value for s in histogram.samples}
    assert samples[("pyglue_db_query_duration_seconds_count", None)] == 6
    assert samples[("pyglue_db_query_duration_seconds_bucket", "+Inf")] == 6
    # the sleep is above 0.256 s; each bucket holds exactly the executions of the bins below it
    assert samples[("pyglue_db_query_duration_seconds_bucket", "0.256")] <= 5
    histogram_bins = collector.inst.cumulative().histogram
    for exponent in range(-4, 15):
        expected = sum(n for index, n in histogram_bins.items() if index < exponent * 8)
        le = repr(2.0**exponent / 1000.0)
        assert samples[("pyglue_db_query_duration_seconds_bucket", le)] == expected
    assert samples[("pyglue_db_query_duration_seconds_sum", None)] >= 0.31
    buckets = [v for (name, le), v in samples.items() if name.endswith("_bucket")]
    assert buckets == sorted(buckets)  # cumulative
    assert families["pyglue_db_slow_queries"].samples[0].value == 1
    assert families["pyglue_db_n_plus_one_warnings"].samples[0].value == 0
    pool = {k: families[f"pyglue_db_pool_{k}"].samples[0].value for k in ("size", "checked_out")}
    assert pool == {"size": 2, "checked_out": 1}  # scraped inside the `with`
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        prometheus_collector(pooled, registry=registry)


def test_prometheus_collector_instruments_when_needed(pooled: Engine) -> None:
    registry = CollectorRegistry()
    collector = prometheus_collector(pooled, namespace="app", registry=registry)
    with pooled.connect() as conn:
        conn.execute(text("SELECT 1"))
    names = {f.name for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert "app_db_query_duration_seconds" in names
    assert collector.inst.cumulative().count == 1
    with pytest.raises(ValueError, match="namespace must be a metric-name prefix"):
        prometheus_collector(pooled, namespace="bad name")
