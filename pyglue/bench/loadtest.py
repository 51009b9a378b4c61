"""`pyglue bench loadtest`: simulated users with think time against one pool per state.

Each simulated user loops: pick an operation of the platform's mix, run it on
an AsyncSession (psycopg async, one pool of POOL_SIZE connections per state,
as an app server has), then think. Every phase stops after its duration plus
a grace period, whatever the database does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from pyglue.bench import loadops
from pyglue.bench.harness import Progress
from pyglue.bench.timing import Timing, percentile, summarize

POOL_SIZE = 20
THINK_S = 5.0  # mean time between one user's actions: reading, typing, waiting for the LLM
GRACE_S = 15.0
SEED = 7  # the simulated users' dice: the same choices run after run


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
    """Sums the time the pool's connections spend checked out, from the pool's own events."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.since, self.busy_s = time.perf_counter(), 0.0
        self._open: dict[int, float] = {}
        event.listen(engine.sync_engine.pool, "checkout", self._checkout)
        event.listen(engine.sync_engine.pool, "checkin", self._checkin)

    def _checkout(self, dbapi_conn: Any, record: Any, proxy: Any) -> None:
        self._open[id(record)] = time.perf_counter()

    def _checkin(self, dbapi_conn: Any, record: Any) -> None:
        start = self._open.pop(id(record), None)
        if start is not None:
            self.busy_s += max(0.0, time.perf_counter() - max(start, self.since))

    def start(self) -> None:
        self.since, self.busy_s = time.perf_counter(), 0.0

    def utilization(self, size: int) -> float:
        """Busy connection-seconds since `start` / (size * seconds)."""
        now = time.perf_counter()
        busy = self.busy_s + sum(now - max(s, self.since) for s in self._open.values())
        return busy / (size * (now - self.since)) if now > self.since else 0.0


@dataclass
class _Users:
    """What the simulated users of one phase share: the mix, the clock, what they recorded."""

    ops: dict[str, loadops.Operation]
    weights: list[int]
    population: list[loadops.PlatformUser]
    think_s: float
    deadline: float
    latencies: dict[str, list[float]]
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    async def user(self, n: int, engine: AsyncEngine) -> None:
        """Simulated user `n`: act, think, until the deadline."""
        rng = random.Random(SEED * 100_003 + n)
        user, state = self.population[n % len(self.population)], dict[str, Any]()
        await asyncio.sleep(rng.uniform(0, self.think_s))  # arrivals spread over a think time
        while time.perf_counter() < self.deadline:
            name = rng.choices(list(self.ops), self.weights)[0]
            op, start = self.ops[name], time.perf_counter()
            try:
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    await session.run_sync(lambda s, op=op: op(loadops.Turn(s, user, rng, state)))  # type: ignore[misc]
                self.latencies[name].append((time.perf_counter() - start) * 1000)
            except Exception as exc:
                self.errors[name] += 1
                if len(self.error_samples) < 5:
                    first = "".join(traceback.format_exception_only(exc)).strip().splitlines()[0]
                    self.error_samples.append(f"{name}: {first[:300]}")
            await asyncio.sleep(rng.uniform(0.5 * self.think_s, 1.5 * self.think_s))


async def _loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late the event loop wakes up: is the client itself the bottleneck?"""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.05)
        lags.append((time.perf_counter() - start - 0.05) * 1000)


def async_engine(url: URL, pool_size: int = POOL_SIZE) -> AsyncEngine:
    return create_async_engine(
        url.set(drivername="postgresql+psycopg"),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=10.0,
    )


async def run_phase(
    state: str,
    url: URL,
    count: int,
    duration_s: float,
    population: list[loadops.PlatformUser],
    think_s: float,
) -> Phase:
    """`count` simulated users for `duration_s` on a fresh pool of POOL_SIZE connections."""
    mix = loadops.MIX
    users = _Users(
        {
            name: entry.baseline if state == "baseline" else entry.head
            for name, entry in mix.items()
        },
        [entry.weight for entry in mix.values()],
        population,
        think_s,
        time.perf_counter() + duration_s,
        {name: [] for name in mix},
    )
    engine = async_engine(url, POOL_SIZE)
    meter = PoolMeter(engine)
    try:
        async with engine.connect() as conn:  # open the pool before the clock starts
            await conn.execute(text("SELECT 1"))
        stop, lags = asyncio.Event(), list[float]()
        lag_task = asyncio.create_task(_loop_lag(stop, lags))
        started, cpu_started = time.perf_counter(), time.process_time()
        users.deadline = started + duration_s
        meter.start()
        tasks = [asyncio.create_task(users.user(n, engine)) for n in range(count)]
        _, pending = await asyncio.wait(tasks, timeout=duration_s + GRACE_S)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        utilization = meter.utilization(POOL_SIZE)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task
        stop.set()
        await lag_task
    finally:
        await engine.dispose()
    completed = sum(len(v) for v in users.latencies.values())
    return Phase(
        state=state,
        users=count,
        duration_s=elapsed,
        operations=completed,
        errors=sum(users.errors.values()) + len(pending),
        throughput=completed / elapsed if elapsed > 0 else 0.0,
        pool_utilization=utilization,
        pool_size=POOL_SIZE,
        per_operation=[
            OperationStats(name, summarize(v) if v else None, users.errors[name])
            for name, v in users.latencies.items()
        ],
        loop_lag_p95_ms=percentile(lags, 95) if lags else 0.0,
        client_cpu_ms_per_op=cpu * 1000 / completed if completed else 0.0,
        load_average=os.getloadavg()[0],
        error_samples=users.error_samples,
    )


async def run(
    urls: dict[str, URL],
    user_counts: list[int],
    duration_s: float,
    think_s: float,
    heaviest: uuid.UUID,
    progress: Progress,
) -> list[Phase]:
    """Every user count against every state in `urls`, one after the other."""
    engine = async_engine(next(iter(urls.values())), 1)
    try:
        async with AsyncSession(engine) as session:
            population = await session.run_sync(lambda s: loadops.population(s, 200, heaviest))
    finally:
        await engine.dispose()
    if not population:
        raise ValueError("no user owns both a workflow with an agent block and an agent")
    phases = []
    for users in user_counts:
        for state, url in urls.items():
            progress(f"  {state} at {users} users for {duration_s:g} s ...")
            phase = await run_phase(state, url, users, duration_s, population, think_s)
            progress(
                f"    {phase.throughput:.0f} ops/s, {phase.errors} errors,"
                f" pool utilization {phase.pool_utilization:.0%}"
            )
            phases.append(phase)
    return phases
