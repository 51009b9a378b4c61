"""measure_query_performance: the plan's decorator, on the statement machinery.

Each call is timed (failed calls too) into a RollingStats keyed by the
function's qualified name, so `function_stats()` gives count, mean, p95 and
max over the last hour and day like the statement shapes; calls
longer than `slow_ms` are logged as WARNING on "pyglue.monitoring", every call at
DEBUG (the plan logged every call at INFO: too loud to leave on). Arguments
are never logged.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, overload

from pyglue.monitoring.stats import RollingStats, ShapeSummary

logger = logging.getLogger("pyglue.monitoring")

P = ParamSpec("P")
R = TypeVar("R")

FUNCTION_STATS = RollingStats()


def _record(name: str, started: float, slow_ms: float, stats: RollingStats) -> None:
    ms = (time.perf_counter() - started) * 1000.0
    slow = ms > slow_ms
    stats.record(name, ms, slow)
    if slow:
        logger.warning(
            "slow call: %s took %.1f ms (threshold %g ms)", name, ms, slow_ms,
            extra={"function": name, "duration_ms": ms},
        )  # fmt: skip
    else:
        logger.debug("%s took %.1f ms", name, ms)


def _wrap(func: Callable[P, R], slow_ms: float, stats: RollingStats) -> Callable[P, R]:
    name = f"{func.__module__}.{func.__qualname__}"
    if inspect.iscoroutinefunction(func):
        async_func: Callable[P, Awaitable[Any]] = func

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            started = time.perf_counter()
            try:
                return await async_func(*args, **kwargs)
            finally:
                _record(name, started, slow_ms, stats)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            _record(name, started, slow_ms, stats)

    return wrapper


@overload
def measure_query_performance(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def measure_query_performance(
    *, slow_ms: float = 1000.0, stats: RollingStats | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def measure_query_performance(
    func: Callable[P, R] | None = None,
    /,
    *,
    slow_ms: float = 1000.0,
    stats: RollingStats | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Time every call of a sync or async function: `@measure_query_performance` or `(...)`."""
    if isinstance(slow_ms, bool) or not isinstance(slow_ms, int | float) or not slow_ms >= 0:
        raise ValueError(f"slow_ms must be a number of milliseconds >= 0, not {slow_ms!r}")
    target_stats = FUNCTION_STATS if stats is None else stats
    if func is not None:
        if not callable(func):
            raise TypeError(f"measure_query_performance decorates a function, not {func!r}")
        return _wrap(func, float(slow_ms), target_stats)

    def decorate(f: Callable[P, R]) -> Callable[P, R]:
        return _wrap(f, float(slow_ms), target_stats)

    return decorate


def function_stats(window: str = "24h", limit: int = 20) -> list[ShapeSummary]:
    """The decorated functions with the most total time over `window` ("1h" or "24h")."""
    return FUNCTION_STATS.top(window, limit)
