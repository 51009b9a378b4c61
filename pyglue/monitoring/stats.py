"""Rolling per-shape statistics in bounded memory.

Each series (one per statement shape, plus one for all statements) keeps
one bucket per minute for the last hour and one per hour for the last day:
at most 61 + 25 buckets, whatever the load. A bucket holds count, sum, max,
the number of slow executions and a sparse log-scale histogram (8 bins per
doubling, so a p95 read from it is within 9% of the exact one). Minute
buckets older than an hour are folded into their hour bucket. The number of
shapes is capped; the least recently used shape is evicted first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pyglue import arguments

Window = Literal["1h", "24h"]
WINDOWS: tuple[Window, ...] = ("1h", "24h")
BINS_PER_DOUBLING = 8
MIN_MS = 2.0**-10  # about 1 microsecond: everything faster shares the lowest bin
DEFAULT_MAX_SHAPES = 500
MAX_LIMIT = 1000


def bin_of(ms: float) -> int:
    """The histogram bin of a duration: bin i holds [2**(i/8), 2**((i+1)/8)) ms."""
    return math.floor(math.log2(ms if ms > MIN_MS else MIN_MS) * BINS_PER_DOUBLING)


MIN_BIN = bin_of(MIN_MS)
floor, log2 = math.floor, math.log2


def bin_upper_ms(index: int) -> float:
    return float(2.0 ** ((index + 1) / BINS_PER_DOUBLING))


class Bucket:
    """What one minute (span 1) or one hour (span 60) of one series saw; start in minutes."""

    __slots__ = ("count", "hist", "max_ms", "slow", "span", "start", "total_ms")

    def __init__(self, start: int, span: int = 1) -> None:
        self.start = start
        self.span = span
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self.slow = 0
        self.hist: dict[int, int] = {}

    def merge(self, other: Bucket) -> None:
        self.count += other.count
        self.total_ms += other.total_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.slow += other.slow
        hist = self.hist
        for index, n in other.hist.items():
            hist[index] = hist.get(index, 0) + n

    def within(self, first: int) -> bool:
        """Does the bucket overlap the window that starts after minute `first`?"""
        return self.start + self.span - 1 > first


WINDOW_MINUTES = {"1h": 60, "24h": 1440}


class Series:
    """The minute buckets (last hour) and hour buckets (last day) of one shape."""

    __slots__ = ("current", "hours", "minutes")

    def __init__(self) -> None:
        self.minutes: deque[Bucket] = deque()
        self.hours: deque[Bucket] = deque()
        self.current: Bucket | None = None

    def roll(self, minute: int) -> tuple[Bucket, Bucket | None]:
        """The bucket of `minute`, made current, and the bucket it replaced (now closed)."""
        current = self.current
        if current is not None and minute < current.start:
            return current, None  # the wall clock stepped back: keep filling the newest bucket
        self.prune(minute)
        bucket = Bucket(minute)
        self.minutes.append(bucket)
        self.current = bucket
        return bucket, current

    def prune(self, minute: int) -> None:
        """Fold minute buckets older than an hour into hours; drop hours older than a day."""
        minutes, hours = self.minutes, self.hours
        while minutes and minutes[0].start <= minute - 60:
            old = minutes.popleft()
            hour = old.start - old.start % 60
            if not hours or hours[-1].start != hour:
                hours.append(Bucket(hour, 60))
            hours[-1].merge(old)
            if old is self.current:
                self.current = None
        while hours and not hours[0].within(minute - 1440):
            hours.popleft()

    def buckets(self, window: Window, minute: int) -> list[Bucket]:
        """The buckets inside `window` ending at `minute` (24h: to the hour)."""
        first = minute - WINDOW_MINUTES[window]
        minutes = [b for b in self.minutes if b.within(first)]
        if window == "1h":
            return minutes  # exact to the minute: hour buckets only hold older minutes
        return [b for b in self.hours if b.within(first)] + minutes

    def all_buckets(self) -> list[Bucket]:
        return [*self.hours, *self.minutes]


class Evicted:
    """The buckets of evicted shapes, merged by time: still bounded (61 + 25 buckets)."""

    def __init__(self) -> None:
        self.by_start: dict[tuple[int, int], Bucket] = {}

    def absorb(self, bucket: Bucket, minute: int) -> None:
        if bucket.span == 1 and bucket.start <= minute - 60:
            key = (bucket.start - bucket.start % 60, 60)  # older than an hour: hour resolution
        else:
            key = (bucket.start, bucket.span)
        target = self.by_start.get(key)
        if target is None:
            target = self.by_start[key] = Bucket(*key)
        target.merge(bucket)
        for old_key in [k for k, b in self.by_start.items() if not b.within(minute - 1440)]:
            del self.by_start[old_key]

    def buckets(self, window: Window, minute: int) -> list[Bucket]:
        first = minute - WINDOW_MINUTES[window]
        span = 1 if window == "1h" else 60
        return [b for b in self.by_start.values() if b.span <= span and b.within(first)]


@dataclass(frozen=True)
class Summary:
    """Count, mean, p95 and max of one series over one window (milliseconds)."""

    count: int
    total_ms: float
    mean_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    slow: int


@dataclass(frozen=True)
class ShapeSummary:
    """One statement shape (or function) over one window."""

    shape: str
    count: int
    total_ms: float
    mean_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    slow: int


def summarize(buckets: Iterable[Bucket]) -> Summary:
    merged = Bucket(0)
    for bucket in buckets:
        merged.merge(bucket)
    if merged.count == 0:
        return Summary(0, 0.0, None, None, None, 0)
    rank = math.ceil(0.95 * merged.count)
    seen = 0
    p95 = merged.max_ms
    for index in sorted(merged.hist):
        seen += merged.hist[index]
        if seen >= rank:
            p95 = min(bin_upper_ms(index), merged.max_ms)
            break
    return Summary(
        merged.count,
        merged.total_ms,
        merged.total_ms / merged.count,
        p95,
        merged.max_ms,
        merged.slow,
    )


def check_window(window: str) -> Window:
    return arguments.choice("window", window, WINDOWS)


def check_limit(limit: int, name: str = "limit") -> int:
    return arguments.integer(name, limit, minimum=1, maximum=MAX_LIMIT)


class RollingStats:
    """Per-shape series under one lock, at most `max_shapes` of them (LRU).

    Each execution updates one bucket only (its shape's current minute); the
    totals over all shapes are summed when read, from the live shapes plus
    the evicted ones (merged by time), and the all-time totals Prometheus
    needs are the closed buckets (merged as they close) plus the open ones.
    """

    def __init__(
        self, *, max_shapes: int = DEFAULT_MAX_SHAPES, clock: Callable[[], float] = time.time
    ) -> None:
        if isinstance(max_shapes, bool) or not isinstance(max_shapes, int) or max_shapes < 1:
            raise ValueError(f"max_shapes must be an integer >= 1, not {max_shapes!r}")
        self.max_shapes = max_shapes
        self.clock = clock
        self.lock = threading.Lock()
        self.shapes: OrderedDict[str, Series] = OrderedDict()
        self.evicted = Evicted()
        self.evictions = 0
        self.closed = Bucket(0, 0)  # every bucket that stopped being current: all-time totals

    def record(self, shape: str, ms: float, slow: bool, minute: int | None = None) -> None:
        """Add one execution of `shape` that took `ms` milliseconds."""
        if minute is None:
            minute = int(self.clock() // 60)
        index = bin_of(ms)
        with self.lock:
            self.record_locked(shape, ms, index, slow, minute)

    def record_locked(self, shape: str, ms: float, index: int, slow: bool, minute: int) -> None:
        """`record` for a caller holding `lock` with the bin and minute computed (hot path)."""
        shapes = self.shapes
        series = shapes.get(shape)
        if series is None:
            if len(shapes) >= self.max_shapes:
                self._evict(minute)
            series = shapes[shape] = Series()
        else:
            shapes.move_to_end(shape)
        bucket = series.current
        if bucket is None or bucket.start != minute:
            bucket, closed = series.roll(minute)
            if closed is not None:
                self.closed.merge(closed)
        bucket.count += 1
        bucket.total_ms += ms
        if ms > bucket.max_ms:
            bucket.max_ms = ms
        hist = bucket.hist
        hist[index] = hist.get(index, 0) + 1
        if slow:
            bucket.slow += 1

    def record_many_locked(
        self, shape: str, durations: list[float], slow_ms: float, minute: int
    ) -> None:
        """Add executions of one shape in one minute (the caller holds `lock`)."""
        shapes = self.shapes
        series = shapes.get(shape)
        if series is None:
            if len(shapes) >= self.max_shapes:
                self._evict(minute)
            series = shapes[shape] = Series()
        else:
            shapes.move_to_end(shape)
        bucket = series.current
        if bucket is None or bucket.start != minute:
            bucket, closed = series.roll(minute)
            if closed is not None:
                self.closed.merge(closed)
        hist = bucket.hist
        top = bucket.max_ms
        for ms in durations:
            index = floor(log2(ms) * BINS_PER_DOUBLING) if ms > MIN_MS else MIN_BIN
            hist[index] = hist.get(index, 0) + 1
            if ms > top:
                top = ms
            if ms > slow_ms:
                bucket.slow += 1
        bucket.max_ms = top
        bucket.count += len(durations)
        bucket.total_ms += sum(durations)

    def _evict(self, minute: int) -> None:
        _, series = self.shapes.popitem(last=False)
        self.evictions += 1
        if series.current is not None:
            self.closed.merge(series.current)
        for bucket in series.all_buckets():
            self.evicted.absorb(bucket, minute)

    def _minute(self) -> int:
        return int(self.clock() // 60)

    def summary(self, window: str = "24h") -> Summary:
        """All statements together over `window`."""
        checked = check_window(window)
        minute = self._minute()
        with self.lock:
            buckets = self.evicted.buckets(checked, minute)
            for series in self.shapes.values():
                buckets.extend(series.buckets(checked, minute))
            return summarize(buckets)

    def all_time(self) -> Bucket:
        """Everything recorded since the start, merged into one bucket (a copy)."""
        total = Bucket(0, 0)
        with self.lock:
            total.merge(self.closed)
            for series in self.shapes.values():
                if series.current is not None:
                    total.merge(series.current)
        return total

    def top(self, window: str = "24h", limit: int = 10) -> list[ShapeSummary]:
        """The `limit` shapes with the most total time over `window`."""
        checked = check_window(window)
        check_limit(limit)
        minute = self._minute()
        with self.lock:
            summaries = [
                (shape, summarize(series.buckets(checked, minute)))
                for shape, series in self.shapes.items()
            ]
        rows = [
            ShapeSummary(shape, s.count, s.total_ms, s.mean_ms, s.p95_ms, s.max_ms, s.slow)
            for shape, s in summaries
            if s.count
        ]
        rows.sort(key=lambda r: (-r.total_ms, r.shape))
        return rows[:limit]

    def shape(self, shape: str, window: str = "24h") -> Summary:
        """One shape over `window` (zero counts when never seen or evicted)."""
        checked = check_window(window)
        minute = self._minute()
        with self.lock:
            series = self.shapes.get(shape)
            return summarize(series.buckets(checked, minute) if series else ())
