"""Time every statement of an engine: rolling stats, slow-statement log, N+1 detector.

Unit of work (for the N+1 detector): one checkout of a connection from the
engine's pool until its checkin. A Session checks a connection out at its
first statement and back in when its transaction ends, so for a Session the
unit is one transaction; for `with engine.connect()` / `engine.begin()` it is
the block.

Slow statements are written to agentdb.slow_queries only when asked
(`persist_slow_queries=True`): they are buffered in memory and flushed when a
connection goes back to the pool, on that connection after the pool has
rolled it back, in a transaction of their own. No statement ever waits for
the write, a rolled-back transaction does not lose the record, and a missing
table or privilege cannot break the app's transaction.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from pyglue.errors import ConfigurationError
from pyglue.monitoring._engines import sync_engine
from pyglue.monitoring.shapes import ShapeCache, truncate
from pyglue.monitoring.stats import DEFAULT_MAX_SHAPES, RollingStats, Summary, bin_of

logger = logging.getLogger("pyglue.monitoring")

LOGGED_STATEMENT_CHARS = 500
PERSISTED_STATEMENT_CHARS = 2000
MAX_PENDING = 1000
_START = "_pyglue_started"
_UNIT = "pyglue_unit"
_RECORD_SQL = "SELECT agentdb.record_slow_query(%s, %s, %s)"

_INSTRUMENTED: weakref.WeakKeyDictionary[Engine, Instrumentation] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


@dataclass(frozen=True)
class Cumulative:
    """Totals since instrumentation began (for Prometheus: they only grow)."""

    count: int
    total_ms: float
    slow: int
    histogram: dict[int, int]
    n_plus_one_warnings: int


def _positive_number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{name} must be a number of milliseconds >= 0, not {value!r}")
    return float(value)


class Instrumentation:
    """The listeners installed on one engine and what they collected."""

    def __init__(
        self,
        engine: Engine,
        *,
        slow_query_ms: float,
        n_plus_one_threshold: int | None,
        persist_slow_queries: bool,
        max_shapes: int,
    ) -> None:
        self.engine = engine
        self.slow_query_ms = slow_query_ms
        self.n_plus_one_threshold = n_plus_one_threshold
        self.persist_slow_queries = persist_slow_queries
        self.stats = RollingStats(max_shapes=max_shapes)
        self._shape_of = ShapeCache()
        self._cum_count = 0
        self._cum_total_ms = 0.0
        self._cum_slow = 0
        self._cum_hist: dict[int, int] = {}
        self._n_plus_one_warnings = 0
        self._pending: deque[tuple[float, str, datetime]] = deque(maxlen=MAX_PENDING)
        self._persist_warned = False
        self.persist_failures = 0
        self.checkouts = 0
        self.checkins = 0
        self._installed = False

    # -- the hot path: two events per statement ---------------------------------

    def _before(
        self, conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
        executemany: bool,
    ) -> None:  # fmt: skip
        setattr(context, _START, time.perf_counter())

    def _after(
        self, conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
        executemany: bool,
    ) -> None:  # fmt: skip
        started = context.__dict__.pop(_START, None)
        if started is None:
            return  # instrumented between this statement's two events
        ms = (time.perf_counter() - started) * 1000.0
        shape = self._shape_of(statement)
        slow = ms >= self.slow_query_ms
        index = bin_of(ms)
        minute = int(time.time() // 60)
        stats = self.stats
        with stats.lock:
            stats.record_locked(shape, ms, index, slow, minute)
            self._cum_count += 1
            self._cum_total_ms += ms
            hist = self._cum_hist
            hist[index] = hist.get(index, 0) + 1
            if slow:
                self._cum_slow += 1
        if slow:
            self._on_slow(shape, ms)
        if self.n_plus_one_threshold is not None:
            unit = conn.info.get(_UNIT)
            if unit is not None:
                unit[shape] = unit.get(shape, 0) + 1

    def _on_slow(self, shape: str, ms: float) -> None:
        logger.warning(
            "slow statement: %.1f ms (threshold %g ms): %s",
            ms,
            self.slow_query_ms,
            truncate(shape, LOGGED_STATEMENT_CHARS),
            extra={"duration_ms": ms, "statement": truncate(shape, LOGGED_STATEMENT_CHARS)},
        )
        if self.persist_slow_queries:
            self._pending.append(
                (ms, truncate(shape, PERSISTED_STATEMENT_CHARS), datetime.now(UTC))
            )

    # -- units of work: pool checkout .. checkin --------------------------------

    def _checkout(self, dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        self.checkouts += 1
        if self.n_plus_one_threshold is not None:
            record.info[_UNIT] = {}

    def _checkin(self, dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        self.checkins += 1
        unit: dict[str, int] | None = record.info.pop(_UNIT, None)
        threshold = self.n_plus_one_threshold
        if unit and threshold is not None:
            for shape, count in unit.items():
                if count > threshold:
                    self._n_plus_one_warnings += 1
                    logger.warning(
                        "N+1 suspect: one unit of work ran the same statement %d times "
                        "(n_plus_one_threshold %d): %s",
                        count,
                        threshold,
                        truncate(shape, LOGGED_STATEMENT_CHARS),
                        extra={"count": count, "statement": shape[:LOGGED_STATEMENT_CHARS]},
                    )
        if self._pending and dbapi_connection is not None:
            self._flush_on(dbapi_connection)

    # -- persistence -------------------------------------------------------------

    def _take_pending(self) -> list[tuple[float, str, datetime]]:
        rows: list[tuple[float, str, datetime]] = []
        while True:
            try:
                rows.append(self._pending.popleft())
            except IndexError:
                return rows

    def _flush_on(self, dbapi_connection: Any) -> int:
        """Write the buffered slow statements on an idle psycopg connection; the count written."""
        if not isinstance(dbapi_connection, psycopg.Connection):
            return 0
        if dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return 0  # the pool did not reset it: never commit someone else's transaction
        rows = self._take_pending()
        if not rows:
            return 0
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.executemany(_RECORD_SQL, rows)
            dbapi_connection.commit()
        except psycopg.Error as exc:
            self.persist_failures += len(rows)
            with contextlib.suppress(psycopg.Error):
                dbapi_connection.rollback()
            level = logging.DEBUG if self._persist_warned else logging.WARNING
            self._persist_warned = True
            logger.log(
                level,
                "could not write %d slow statements to agentdb.slow_queries (they are logged "
                "only): %s",
                len(rows),
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            )
            return 0
        return len(rows)

    def flush(self) -> int:
        """Write the buffered slow statements now, on a connection of the engine."""
        if not self._pending:
            return 0
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            raw.rollback()
            return self._flush_on(driver)
        finally:
            raw.close()

    @property
    def pending(self) -> int:
        """Slow statements waiting to be written."""
        return len(self._pending)

    # -- reading -----------------------------------------------------------------

    def cumulative(self) -> Cumulative:
        with self.stats.lock:
            return Cumulative(
                self._cum_count,
                self._cum_total_ms,
                self._cum_slow,
                dict(self._cum_hist),
                self._n_plus_one_warnings,
            )

    def summary(self, window: str = "24h") -> Summary:
        return self.stats.summary(window)

    # -- (un)installing ----------------------------------------------------------

    def _listeners(self) -> list[tuple[Any, str, Any]]:
        return [
            (self.engine, "before_cursor_execute", self._before),
            (self.engine, "after_cursor_execute", self._after),
            (self.engine, "checkout", self._checkout),
            (self.engine, "checkin", self._checkin),
        ]

    def install(self) -> None:
        for target, name, fn in self._listeners():
            event.listen(target, name, fn)
        self._installed = True

    def uninstrument(self) -> None:
        """Remove the listeners (pending slow statements are flushed first when possible)."""
        if not self._installed:
            return
        if self._pending:
            try:
                self.flush()
            except Exception:  # shutting down: the log already has them
                logger.debug("could not flush slow statements at uninstrument", exc_info=True)
        for target, name, fn in self._listeners():
            event.remove(target, name, fn)
        self._installed = False
        with _REGISTRY_LOCK:
            if _INSTRUMENTED.get(self.engine) is self:
                del _INSTRUMENTED[self.engine]


def instrument(
    engine: Any,
    *,
    slow_query_ms: float = 1000.0,
    n_plus_one_threshold: int | None = None,
    persist_slow_queries: bool = False,
    max_shapes: int = DEFAULT_MAX_SHAPES,
) -> Instrumentation:
    """Time every statement of `engine` (Engine or AsyncEngine) and return the Instrumentation.

    Statements of `slow_query_ms` or more are logged (logger "pyglue.monitoring",
    WARNING, normalized and truncated text, never parameters) and, with
    `persist_slow_queries`, written to agentdb.slow_queries. With
    `n_plus_one_threshold=N`, a unit of work (a pool checkout, i.e. a Session
    transaction) running one statement shape more than N times logs a WARNING
    naming it. An engine is instrumented once: call `uninstrument()` first to
    change the settings.
    """
    target = sync_engine(engine)
    threshold_ms = _positive_number(slow_query_ms, "slow_query_ms")
    if n_plus_one_threshold is not None and (
        isinstance(n_plus_one_threshold, bool)
        or not isinstance(n_plus_one_threshold, int)
        or n_plus_one_threshold < 1
    ):
        raise ValueError(
            "n_plus_one_threshold must be None (off) or an integer >= 1, "
            f"not {n_plus_one_threshold!r}"
        )
    if not isinstance(persist_slow_queries, bool):
        raise ValueError(
            f"persist_slow_queries must be True or False, not {persist_slow_queries!r}"
        )
    if persist_slow_queries and target.dialect.is_async:
        raise ValueError(
            "persist_slow_queries=True needs a sync Engine: slow statements of an AsyncEngine "
            "are logged only"
        )
    with _REGISTRY_LOCK:
        if target in _INSTRUMENTED:
            raise ConfigurationError(
                "this engine is instrumented already: call uninstrument() on "
                "instrumentation_for(engine) before instrumenting it again"
            )
        inst = Instrumentation(
            target,
            slow_query_ms=threshold_ms,
            n_plus_one_threshold=n_plus_one_threshold,
            persist_slow_queries=persist_slow_queries,
            max_shapes=max_shapes,
        )
        inst.install()
        _INSTRUMENTED[target] = inst
    return inst


def instrumentation_for(engine: Any) -> Instrumentation | None:
    """The Instrumentation of `engine`, or None when it is not instrumented."""
    return _INSTRUMENTED.get(sync_engine(engine))


def uninstrument(engine: Any) -> None:
    """Remove the instrumentation of `engine`, if any."""
    inst = instrumentation_for(engine)
    if inst is not None:
        inst.uninstrument()
