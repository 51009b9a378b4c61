"""prometheus_collector: statement durations and pool gauges for an app's /metrics.

A custom collector reads the instrumentation's cumulative totals at scrape
time, so statements pay nothing for Prometheus. The histogram's buckets are
powers of two of a millisecond (0.0625 ms .. 16.384 s), the boundaries of the
instrumentation's own bins, so every bucket count is exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyglue.errors import ConfigurationError
from pyglue.monitoring._engines import sync_engine
from pyglue.monitoring.instrument import Instrumentation, instrument, instrumentation_for
from pyglue.monitoring.pool import pool_status
from pyglue.monitoring.stats import BINS_PER_DOUBLING

BUCKET_EXPONENTS = range(-4, 15)  # 2**k ms


def _import_prometheus() -> Any:
    try:
        import prometheus_client.core as core
    except ImportError as exc:
        raise ConfigurationError(
            "prometheus-client is not installed: pip install 'agentdb[prometheus]'"
        ) from exc
    return core


class PyglueCollector:
    """Collects one instrumented engine's metrics (register it in a CollectorRegistry)."""

    def __init__(self, inst: Instrumentation, namespace: str) -> None:
        self.inst = inst
        self.namespace = namespace
        self._core = _import_prometheus()

    def _families(self, *, empty: bool) -> Iterator[Any]:
        core, ns, inst = self._core, self.namespace, self.inst
        totals = inst.cumulative()
        buckets: list[tuple[str, float]] = []
        for exponent in BUCKET_EXPONENTS:
            bound = exponent * BINS_PER_DOUBLING
            below = sum(n for index, n in totals.histogram.items() if index < bound)
            buckets.append((repr(2.0**exponent / 1000.0), float(below)))
        buckets.append(("+Inf", float(totals.count)))
        yield core.HistogramMetricFamily(
            f"{ns}_db_query_duration_seconds",
            "Duration of the statements this process ran (SQLAlchemy cursor executions)",
            buckets=None if empty else buckets,
            sum_value=None if empty else totals.total_ms / 1000.0,
        )
        yield core.CounterMetricFamily(
            f"{ns}_db_slow_queries",
            f"Statements that took longer than slow_query_ms ({inst.slow_query_ms:g} ms)",
            value=None if empty else totals.slow,
        )
        yield core.CounterMetricFamily(
            f"{ns}_db_n_plus_one_warnings",
            "Units of work that ran one statement shape more than n_plus_one_threshold times",
            value=None if empty else totals.n_plus_one_warnings,
        )
        status = pool_status(inst.engine)
        gauges = {
            "size": ("Connections the pool keeps (pool_size)", status.size),
            "checked_out": ("Connections lent to the app now", status.checked_out),
            "checked_in": ("Idle connections in the pool now", status.checked_in),
            "overflow": ("Connections open beyond pool_size now", status.overflow),
            "utilization": (
                "checked_out / (pool_size + max_overflow)",
                status.utilization if status.utilization is not None else float("nan"),
            ),
        }
        for key, (doc, value) in gauges.items():
            yield core.GaugeMetricFamily(
                f"{ns}_db_pool_{key}", doc, value=None if empty else float(value)
            )

    def describe(self) -> Iterator[Any]:
        return self._families(empty=True)

    def collect(self) -> Iterator[Any]:
        return self._families(empty=False)


def prometheus_collector(
    engine: Any, *, namespace: str = "pyglue", registry: Any = None
) -> PyglueCollector:
    """A collector for `engine` (instrumented with the defaults if it is not yet).

    Pass `registry` (e.g. prometheus_client.REGISTRY) to register it there;
    otherwise register it yourself.
    """
    target = sync_engine(engine)
    if not isinstance(namespace, str) or not namespace.isidentifier():
        raise ValueError(f"namespace must be a metric-name prefix like 'pyglue', not {namespace!r}")
    inst = instrumentation_for(target) or instrument(target)
    collector = PyglueCollector(inst, namespace)
    if registry is not None:
        registry.register(collector)
    return collector
