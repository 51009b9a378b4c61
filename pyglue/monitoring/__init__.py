"""Monitoring: statement timing and shapes, slow-statement log, N+1 detector, pool, Prometheus.

from pyglue.monitoring import instrument, performance_stats
instrument(engine, slow_query_ms=500, n_plus_one_threshold=20)
performance_stats(engine).as_dict()   # the plan's /performance/stats payload
"""

from pyglue.monitoring.counting import QueryCounter, count_queries
from pyglue.monitoring.dba import RelationHealth, StatementStat, perf_stats, table_health
from pyglue.monitoring.decorator import function_stats, measure_query_performance
from pyglue.monitoring.instrument import (
    Instrumentation,
    instrument,
    instrumentation_for,
    uninstrument,
)
from pyglue.monitoring.performance import PerformanceStats, performance_stats
from pyglue.monitoring.pool import PoolStatus, pool_status
from pyglue.monitoring.prometheus import prometheus_collector
from pyglue.monitoring.statement_shapes import normalize
from pyglue.monitoring.stats import ShapeSummary, Summary

__all__ = [
    "Instrumentation",
    "PerformanceStats",
    "PoolStatus",
    "QueryCounter",
    "RelationHealth",
    "ShapeSummary",
    "StatementStat",
    "Summary",
    "count_queries",
    "function_stats",
    "instrument",
    "instrumentation_for",
    "measure_query_performance",
    "normalize",
    "perf_stats",
    "performance_stats",
    "pool_status",
    "prometheus_collector",
    "table_health",
    "uninstrument",
]
