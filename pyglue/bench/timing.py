"""Timing: warm up, then time at least `runs` calls; median, p95 and ratios."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_RUNS = 200
DEFAULT_WARMUP = 20
# A slow baseline call still gets its warm-up, but no more than this many seconds of it.
WARMUP_BUDGET_S = 5.0


@dataclass(frozen=True)
class Timing:
    """Latencies of one operation, in milliseconds."""

    runs: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered, rank = sorted(values), (len(values) - 1) * q / 100.0
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    return low + (high - low) * (rank - math.floor(rank))


def summarize(samples_ms: Sequence[float]) -> Timing:
    ms, n = samples_ms, len(samples_ms)
    return Timing(n, percentile(ms, 50), percentile(ms, 95), percentile(ms, 99), sum(ms) / n,
                  min(ms), max(ms))  # fmt: skip


def time_calls(
    call: Callable[[], object], *, runs: int = DEFAULT_RUNS, warmup: int = DEFAULT_WARMUP,
    before_timed: Callable[[], object] | None = None,
) -> Timing:  # fmt: skip
    """Call `call` `warmup` times untimed (within WARMUP_BUDGET_S), then `runs` times timed."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    deadline = time.perf_counter() + WARMUP_BUDGET_S
    for _ in range(warmup):
        call()
        if time.perf_counter() > deadline:
            break
    if before_timed is not None:
        before_timed()
    samples: list[float] = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return summarize(samples)


def ratio(baseline_ms: float, head_ms: float) -> float:
    """How many times faster head is than baseline (inf when head took no measurable time)."""
    return baseline_ms / head_ms if head_ms > 0 else math.inf
