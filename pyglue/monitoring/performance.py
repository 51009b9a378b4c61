"""performance_stats: the performance plan's payload, from the in-process statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pyglue.errors import ConfigurationError
from pyglue.monitoring._engines import sync_engine
from pyglue.monitoring.instrument import instrumentation_for
from pyglue.monitoring.pool import PoolStatus, pool_status
from pyglue.monitoring.stats import ShapeSummary, check_limit, check_window


@dataclass(frozen=True)
class PerformanceStats:
    """avg_query_time_ms and slow_queries_24h (this process, last 24 h), pool, top statements."""

    avg_query_time_ms: float | None
    slow_queries_24h: int
    queries_24h: int
    p95_query_time_ms: float | None
    db_pool_status: PoolStatus
    top_statements: list[ShapeSummary]
    slow_query_ms: float
    window: str

    def as_dict(self) -> dict[str, Any]:
        """The payload as JSON-ready dicts (the plan's /performance/stats keys first)."""
        return asdict(self)


def performance_stats(engine: Any, *, top: int = 10, window: str = "24h") -> PerformanceStats:
    """The plan's payload for an instrumented `engine`; `top` statements by total time."""
    target = sync_engine(engine)
    check_limit(top, "top")
    checked = check_window(window)
    inst = instrumentation_for(target)
    if inst is None:
        raise ConfigurationError(
            "the engine is not instrumented: call pyglue.monitoring.instrument(engine) at startup"
        )
    overall = inst.stats.summary(checked)
    return PerformanceStats(
        avg_query_time_ms=overall.mean_ms,
        slow_queries_24h=overall.slow,
        queries_24h=overall.count,
        p95_query_time_ms=overall.p95_ms,
        db_pool_status=pool_status(target),
        top_statements=inst.stats.top(checked, top),
        slow_query_ms=inst.slow_query_ms,
        window=checked,
    )
