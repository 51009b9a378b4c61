"""`pyglue loadtest`: simulated users with think time against one pool per state.

Each simulated user loops: pick an operation of the platform's mix, run it
on an AsyncSession (psycopg async, one pool of `pool_size` connections per
state, as an app server would have), then think. For each user count the
report gives throughput, p50/p95/p99 per operation, errors, and pool
utilization: the fraction of the time the pool's connections were checked
out, the plan's "DB connection usage". Bounded: every phase stops after its
duration plus a grace period, whatever the database does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from pyglue.bench import head as head_access
from pyglue.bench import loadops
from pyglue.bench.timing import Timing, percentile, summarize

POOL_SIZE = 20
THINK_S = 5.0  # mean time between one user's actions: reading, typing, waiting for the LLM
POOL_TIMEOUT_S = 10.0
GRACE_S = 15.0
MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True)
class OperationStats:
    name: str
    timing: Timing | None
    errors: int


@dataclass(frozen=True)
class Phase:
    """One state at one user count."""

    state: str
    users: int
    duration_s: float
    operations: int
    errors: int
    throughput: float  # completed operations per second
    pool_utilization: float  # 0..1
    pool_size: int
    per_operation: list[OperationStats]
    loop_lag_p95_ms: float  # how late the client's event loop ran: is the client the bottleneck?
    client_cpu_ms_per_op: float  # this process's CPU time per completed operation
    load_average: float  # the machine's 1-minute load average at the end of the phase
    error_samples: list[str] = field(default_factory=list)


class PoolMeter:
    """Sums the time each connection spends checked out, from the pool's own events."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.busy_s = 0.0
        self._open: dict[int, float] = {}
        self._window: tuple[float, float] | None = None
        pool = engine.sync_engine.pool
        event.listen(pool, "checkout", self._checkout)
        event.listen(pool, "checkin", self._checkin)

    def _checkout(self, dbapi_conn: Any, record: Any, proxy: Any) -> None:
        self._open[id(record)] = time.perf_counter()

    def _checkin(self, dbapi_conn: Any, record: Any) -> None:
        start = self._open.pop(id(record), None)
        if start is not None:
            self.busy_s += self._clip(start, time.perf_counter())

    def _clip(self, start: float, end: float) -> float:
        if self._window is None:
            return 0.0
        lo, hi = self._window
        return max(0.0, min(end, hi) - max(start, lo))

    def start(self) -> None:
        self.busy_s = 0.0
        self._window = (time.perf_counter(), float("inf"))

    def stop(self, size: int) -> float:
        """Utilization over the window: busy connection-seconds / (size * seconds)."""
        assert self._window is not None
        now = time.perf_counter()
        lo = self._window[0]
        self._window = (lo, now)
        busy = self.busy_s + sum(self._clip(s, now) for s in self._open.values())
        self._window = None
        return busy / (size * (now - lo)) if now > lo else 0.0


@dataclass
class _Recorder:
    latencies: dict[str, list[float]]
    errors: Counter[str]
    samples: list[str]


async def _loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.05)
        lags.append((time.perf_counter() - start - 0.05) * 1000)


async def _user(
    n: int,
    engine: AsyncEngine,
    ops: dict[str, loadops.Operation],
    weights: list[int],
    population: list[loadops.PlatformUser],
    think_s: float,
    deadline: float,
    rec: _Recorder,
    seed: int,
) -> None:
    rng = random.Random(seed * 100_003 + n)
    user = population[n % len(population)]
    state: dict[str, Any] = {}
    names = list(ops)
    await asyncio.sleep(rng.uniform(0, think_s))  # users arrive spread over one think time
    while time.perf_counter() < deadline:
        name = rng.choices(names, weights)[0]
        op = ops[name]
        start = time.perf_counter()
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                await session.run_sync(lambda s, op=op: op(s, user, rng, state))  # type: ignore[misc]
            rec.latencies[name].append((time.perf_counter() - start) * 1000)
        except Exception as exc:
            rec.errors[name] += 1
            if len(rec.samples) < MAX_ERROR_SAMPLES:
                first = "".join(traceback.format_exception_only(exc)).strip().splitlines()[0]
                rec.samples.append(f"{name}: {first[:300]}")
        await asyncio.sleep(rng.uniform(0.5 * think_s, 1.5 * think_s))


def async_engine(url: URL, pool_size: int = POOL_SIZE) -> AsyncEngine:
    return create_async_engine(
        url.set(drivername="postgresql+psycopg"),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_S,
    )


async def run_phase(
    state: str,
    url: URL,
    users: int,
    duration_s: float,
    population: list[loadops.PlatformUser],
    *,
    think_s: float,
    pool_size: int = POOL_SIZE,
    seed: int = 7,
    leave_out: set[str] | None = None,
) -> Phase:
    """`users` simulated users for `duration_s` on a fresh pool of `pool_size` connections."""
    mix = {k: v for k, v in loadops.MIX.items() if k not in (leave_out or set())}
    if not mix:
        raise ValueError("every operation of the mix was left out")
    ops = {name: (e.baseline if state == "baseline" else e.head) for name, e in mix.items()}
    weights = [e.weight for e in mix.values()]
    engine = async_engine(url, pool_size)
    meter = PoolMeter(engine)
    rec = _Recorder({name: [] for name in ops}, Counter(), [])
    try:
        async with engine.connect() as conn:  # open the pool before the clock starts
            await conn.execute(text("SELECT 1"))
        stop = asyncio.Event()
        lags: list[float] = []
        lag_task = asyncio.create_task(_loop_lag(stop, lags))
        started = time.perf_counter()
        cpu_started = time.process_time()
        deadline = started + duration_s
        meter.start()
        tasks = [
            asyncio.create_task(
                _user(n, engine, ops, weights, population, think_s, deadline, rec, seed)
            )
            for n in range(users)
        ]
        _, pending = await asyncio.wait(tasks, timeout=duration_s + GRACE_S)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        utilization = meter.stop(pool_size)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task
        stop.set()
        await lag_task
    finally:
        await engine.dispose()
    completed = sum(len(v) for v in rec.latencies.values())
    return Phase(
        state=state,
        users=users,
        duration_s=elapsed,
        operations=completed,
        errors=sum(rec.errors.values()) + len(pending),
        throughput=completed / elapsed if elapsed > 0 else 0.0,
        pool_utilization=utilization,
        pool_size=pool_size,
        per_operation=[
            OperationStats(name, summarize(v) if v else None, rec.errors[name])
            for name, v in rec.latencies.items()
        ],
        loop_lag_p95_ms=percentile(lags, 95) if lags else 0.0,
        client_cpu_ms_per_op=cpu * 1000 / completed if completed else 0.0,
        load_average=os.getloadavg()[0],
        error_samples=rec.samples,
    )


async def _population(url: URL, size: int, heaviest: Any) -> list[loadops.PlatformUser]:
    engine = async_engine(url, 1)
    try:
        async with AsyncSession(engine) as session:
            return await session.run_sync(lambda s: loadops.population(s, size, heaviest))
    finally:
        await engine.dispose()


async def unavailable_operations(url: URL) -> dict[str, str]:
    """Operations of the mix whose head side is not installed, with the missing pieces."""
    engine = async_engine(url, 1)
    try:
        async with engine.connect() as conn:
            routines = await conn.run_sync(head_access.missing_routines)
    finally:
        await engine.dispose()
    out = {}
    for name, (helpers, needs) in loadops.HEAD_NEEDS.items():
        missing = [f"pyglue.{h}" for h in helpers if head_access.helper(*h.split(".", 1)) is None]
        missing += [head_access.SQL_ROUTINES[r] for r in needs if r in routines]
        if missing:
            out[name] = "not available: " + ", ".join(missing)
    return out


async def run(
    urls: dict[str, URL],
    user_counts: list[int],
    duration_s: float,
    *,
    think_s: float,
    heaviest: Any = None,
    progress: Any = print,
) -> tuple[list[Phase], dict[str, str]]:
    """Every user count against every state in `urls`, one after the other.

    An operation whose head side is not installed is left out of the mix of
    both states (so they stay comparable) and returned with the reason.
    """
    population = await _population(next(iter(urls.values())), 200, heaviest)
    if not population:
        raise ValueError("no user owns both a workflow with an agent block and an agent")
    left_out = await unavailable_operations(urls["head"]) if "head" in urls else {}
    for name, reason in left_out.items():
        progress(f"  {name} left out of the mix: {reason}")
    leave = set(left_out)
    if leave >= set(loadops.MIX):  # nothing to run at head: baseline alone, full mix
        progress("  head: no operation of the mix is available; baseline only")
        urls = {k: v for k, v in urls.items() if k != "head"}
        leave = set()
    phases = []
    for users in user_counts:
        for state, url in urls.items():
            progress(f"  {state} at {users} users for {duration_s:g} s ...")
            phase = await run_phase(
                state, url, users, duration_s, population, think_s=think_s, leave_out=leave
            )
            progress(
                f"    {phase.throughput:.0f} ops/s, {phase.errors} errors,"
                f" pool utilization {phase.pool_utilization:.0%}"
            )
            phases.append(phase)
    return phases, left_out
