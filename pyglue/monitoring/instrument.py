"""Time every statement of an engine: rolling stats, slow-statement log, N+1 detector.

How statements are timed: each psycopg connection the engine checks out gets
a cursor class that times `execute`/`executemany` (set at checkout, once per
connection). SQLAlchemy's cursor-execute events would do the same, but any
listener on them sends every statement of the engine through SQLAlchemy's
event dispatch (about 30 extra Python calls a statement, measured): more
than the timing itself. Statements on server-side cursors (stream_results)
are not timed.

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
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter
from time import time as wall_time
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from pyglue.errors import ConfigurationError
from pyglue.monitoring._engines import sync_engine
from pyglue.monitoring.statement_shapes import ShapeCache, truncate
from pyglue.monitoring.stats import DEFAULT_MAX_SHAPES, RollingStats, Summary

logger = logging.getLogger("pyglue.monitoring")

LOGGED_STATEMENT_CHARS = 500
PERSISTED_STATEMENT_CHARS = 2000
MAX_PENDING = 1000
DRAIN_AT = 512
_UNIT = "_pyglue_unit"  # attribute of a psycopg connection: statement -> count in this unit
_BASE = "_pyglue_base"  # attribute of a timed cursor class: the class it wraps
_RECORD_SQL = "SELECT agentdb.record_slow_query(%s, %s, %s)"

# the Instrumentation of an engine lives on the engine itself (a weak-keyed map
# would keep every engine alive: the Instrumentation refers to its engine)
_ATTRIBUTE = "_pyglue_instrumentation"
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


def _statement_text(query: Any) -> str:
    if isinstance(query, str):
        return query
    if isinstance(query, bytes):
        return query.decode("utf-8", "replace")
    return f"<{type(query).__name__}>"  # a psycopg.sql.Composable: no text without a connection


def _timed_cursor_class(base: type[Any], inst: Instrumentation) -> type[Any]:
    """A subclass of psycopg's (Async)Cursor class `base` whose executions `inst` observes."""
    observe = inst.observe
    base_execute, base_executemany = base.execute, base.executemany
    if issubclass(base, psycopg.AsyncCursor):

        class TimedAsyncCursor(base):  # type: ignore[misc]
            __slots__ = ()

            async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                started = perf_counter()
                result = await base_execute(self, query, params, **kwargs)
                observe(query, started, self._conn)
                return result

            async def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
                started = perf_counter()
                await base_executemany(self, query, params_seq, **kwargs)
                observe(query, started, self._conn)

        timed: type[Any] = TimedAsyncCursor
    else:

        class TimedCursor(base):  # type: ignore[misc]
            __slots__ = ()

            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                started = perf_counter()
                result = base_execute(self, query, params, **kwargs)
                observe(query, started, self._conn)
                return result

            def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
                started = perf_counter()
                base_executemany(self, query, params_seq, **kwargs)
                observe(query, started, self._conn)

        timed = TimedCursor
    setattr(timed, _BASE, base)
    return timed


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
        self._stats = RollingStats(max_shapes=max_shapes)
        self._buffer: deque[tuple[Any, float, float]] = deque()
        self._shape_of = ShapeCache()
        self._shape_cache = self._shape_of.cache  # the hot path reads it directly
        self._cursor_classes: dict[type[Any], type[Any]] = {}
        self._timed_classes: set[type[Any]] = set()
        self._n_plus_one_warnings = 0
        self._pending: deque[tuple[float, str, datetime]] = deque(maxlen=MAX_PENDING)
        self._persist_warned = False
        self.persist_failures = 0
        self.checkouts = 0
        self.checkins = 0
        self.active = False

    # -- the hot path: once per statement ------------------------------------------

    def observe(self, query: Any, started: float, connection: Any) -> None:
        """Note one execution that began at perf_counter() `started` on `connection`.

        Only the duration and the statement's identity are noted here; shapes,
        histogram bins and buckets are worked out in batches by `drain()` (at
        each checkin, every DRAIN_AT executions, and before any read): a tight
        loop over a few hundred executions costs a fraction of the same work
        scattered between the app's own statements.
        """
        end = perf_counter()
        if not self.active:
            return  # a connection still carrying the cursor class of an uninstrumented engine
        ms = (end - started) * 1000.0
        buffer = self._buffer
        buffer.append((query, ms, end))
        if ms > self.slow_query_ms:
            self._on_slow(self._shape_of(_statement_text(query)), ms)
        if self.n_plus_one_threshold is not None:
            unit = getattr(connection, _UNIT, None)
            if unit is not None:
                unit[query] = unit.get(query, 0) + 1
        if len(buffer) >= DRAIN_AT:
            self.drain()

    def drain(self) -> None:
        """Fold the noted executions into the rolling statistics."""
        buffer = self._buffer
        if not buffer:
            return
        offset = wall_time() - perf_counter()  # perf_counter -> wall clock, for the minute
        popleft = buffer.popleft
        # group by statement and minute first: one shape lookup and one bucket per group
        groups: dict[tuple[Any, int], list[float]] = {}
        for _ in range(len(buffer)):
            query, ms, end = popleft()
            key = (query, int((end + offset) // 60))
            group = groups.get(key)
            if group is None:
                groups[key] = [ms]
            else:
                group.append(ms)
        shape_cache, shape_of = self._shape_cache, self._shape_of
        stats = self._stats
        with stats.lock:
            for (query, minute), durations in groups.items():
                statement = query if type(query) is str else _statement_text(query)
                shape = shape_cache.get(statement) or shape_of(statement)
                stats.record_many_locked(shape, durations, self.slow_query_ms, minute)

    @property
    def stats(self) -> RollingStats:
        """The rolling statistics, up to date."""
        self.drain()
        return self._stats

    def _on_slow(self, shape: str, ms: float) -> None:
        logged = truncate(shape, LOGGED_STATEMENT_CHARS)
        logger.warning(
            "slow statement: %.1f ms (threshold %g ms): %s",
            ms,
            self.slow_query_ms,
            logged,
            extra={"duration_ms": ms, "statement": logged},
        )
        if self.persist_slow_queries:
            self._pending.append(
                (ms, truncate(shape, PERSISTED_STATEMENT_CHARS), datetime.now(UTC))
            )

    # -- units of work: pool checkout .. checkin ------------------------------------

    def _checkout(self, dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        self.checkouts += 1
        driver = record.driver_connection
        if driver is None or not isinstance(driver, psycopg.Connection | psycopg.AsyncConnection):
            return
        factory = driver.cursor_factory
        if factory not in self._timed_classes:
            base = getattr(factory, _BASE, factory)
            timed = self._cursor_classes.get(base)
            if timed is None:
                timed = self._cursor_classes[base] = _timed_cursor_class(base, self)
                self._timed_classes.add(timed)
            driver.cursor_factory = timed
        if self.n_plus_one_threshold is not None:
            setattr(driver, _UNIT, {})

    def _checkin(self, dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        self.checkins += 1
        driver = record.driver_connection
        unit: dict[str, int] | None = getattr(driver, _UNIT, None)
        if unit is not None:
            setattr(driver, _UNIT, None)
        self.drain()
        threshold = self.n_plus_one_threshold
        if unit and threshold is not None:
            by_shape: dict[str, int] = {}
            for query, n in unit.items():
                shape = self._shape_of(_statement_text(query))
                by_shape[shape] = by_shape.get(shape, 0) + n
            for shape, count in by_shape.items():
                if count > threshold:
                    self._n_plus_one_warnings += 1
                    logged = truncate(shape, LOGGED_STATEMENT_CHARS)
                    logger.warning(
                        "N+1 suspect: one unit of work ran the same statement %d times "
                        "(n_plus_one_threshold %d): %s",
                        count,
                        threshold,
                        logged,
                        extra={"count": count, "statement": logged},
                    )
        if self._pending and isinstance(driver, psycopg.Connection):
            self._flush_on(driver)

    # -- persistence ------------------------------------------------------------------

    def _take_pending(self) -> list[tuple[float, str, datetime]]:
        rows: list[tuple[float, str, datetime]] = []
        while True:
            try:
                rows.append(self._pending.popleft())
            except IndexError:
                return rows

    def _flush_on(self, connection: psycopg.Connection[Any]) -> int:
        """Write the buffered slow statements on an idle connection; the count written."""
        if (
            connection.closed
            or connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        ):
            return 0  # the pool did not reset it: never commit someone else's transaction
        rows = self._take_pending()
        if not rows:
            return 0
        try:
            # a plain cursor, not the timed one: these writes are not the app's statements
            with psycopg.Cursor(connection) as cursor:
                cursor.executemany(_RECORD_SQL, rows)
            connection.commit()
        except psycopg.Error as exc:
            self.persist_failures += len(rows)
            with contextlib.suppress(psycopg.Error):
                connection.rollback()
            level = logging.DEBUG if self._persist_warned else logging.WARNING
            self._persist_warned = True
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            logger.log(
                level,
                "could not write %d slow statements to agentdb.slow_queries "
                "(they are logged only): %s",
                len(rows),
                reason,
            )
            return 0
        return len(rows)

    def flush(self) -> int:
        """Write the buffered slow statements now, on a connection of the engine."""
        if not self._pending:
            return 0
        raw = self.engine.raw_connection()
        try:
            raw.rollback()
            driver = raw.driver_connection
            return self._flush_on(driver) if isinstance(driver, psycopg.Connection) else 0
        finally:
            raw.close()

    @property
    def pending(self) -> int:
        """Slow statements waiting to be written."""
        return len(self._pending)

    # -- reading ----------------------------------------------------------------------

    def cumulative(self) -> Cumulative:
        total = self.stats.all_time()
        return Cumulative(
            total.count, total.total_ms, total.slow, total.hist, self._n_plus_one_warnings
        )

    def summary(self, window: str = "24h") -> Summary:
        return self.stats.summary(window)

    # -- (un)installing ---------------------------------------------------------------

    def install(self) -> None:
        event.listen(self.engine, "checkout", self._checkout)
        event.listen(self.engine, "checkin", self._checkin)
        self.active = True

    def uninstrument(self) -> None:
        """Stop observing (pending slow statements are flushed first when possible).

        Connections idle in the pool keep the timed cursor class, which then
        only passes through (it checks `active`).
        """
        if not self.active:
            return
        if self._pending:
            try:
                self.flush()
            except Exception:  # shutting down: the log already has them
                logger.debug("could not flush slow statements at uninstrument", exc_info=True)
        event.remove(self.engine, "checkout", self._checkout)
        event.remove(self.engine, "checkin", self._checkin)
        self.active = False
        with _REGISTRY_LOCK:
            if getattr(self.engine, _ATTRIBUTE, None) is self:
                delattr(self.engine, _ATTRIBUTE)


def instrument(
    engine: Any,
    *,
    slow_query_ms: float = 1000.0,
    n_plus_one_threshold: int | None = None,
    persist_slow_queries: bool = False,
    max_shapes: int = DEFAULT_MAX_SHAPES,
) -> Instrumentation:
    """Time every statement of `engine` (Engine or AsyncEngine) and return the Instrumentation.

    Statements longer than `slow_query_ms` are logged (logger "pyglue.monitoring",
    WARNING, normalized and truncated text, never parameters) and, with
    `persist_slow_queries`, written to agentdb.slow_queries. With
    `n_plus_one_threshold=N`, a unit of work (a pool checkout, i.e. a Session
    transaction) running one statement shape more than N times logs a WARNING
    naming it when the unit ends. An engine is instrumented once: call
    `uninstrument()` first to change the settings.
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
    if target.dialect.driver not in ("psycopg", "psycopg_async"):
        raise ConfigurationError(
            f"pyglue.monitoring times statements of the psycopg driver, not {target.dialect.driver}"
            ": use a postgresql+psycopg:// URL"
        )
    with _REGISTRY_LOCK:
        if getattr(target, _ATTRIBUTE, None) is not None:
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
        setattr(target, _ATTRIBUTE, inst)
    return inst


def instrumentation_for(engine: Any) -> Instrumentation | None:
    """The Instrumentation of `engine`, or None when it is not instrumented."""
    inst: Instrumentation | None = getattr(sync_engine(engine), _ATTRIBUTE, None)
    return inst


def uninstrument(engine: Any) -> None:
    """Remove the instrumentation of `engine`, if any."""
    inst = instrumentation_for(engine)
    if inst is not None:
        inst.uninstrument()
