"""`pyglue bench scenarios`: every scenario at both states in both psycopg prepare modes."""

from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from pyglue.bench import memory_cleanup, scenarios, servertime, storage
from pyglue.bench.context import Context, resolve
from pyglue.bench.harness import Progress, States
from pyglue.bench.timing import Timing, time_calls
from pyglue.monitoring import count_queries

# psycopg's default prepares a statement server-side after 5 executions; None never does.
MODES: tuple[tuple[str, int | None], ...] = (
    ("prepare_threshold=5 (default)", 5),
    ("prepare_threshold=None", None),
)


@dataclass(frozen=True)
class Measurement:
    """One scenario in one prepare mode: both states' timings and whether they agreed."""

    scenario: str
    mode: str
    baseline: Timing | None = None
    head: Timing | None = None
    baseline_statements: int | None = None
    head_statements: int | None = None
    # PostgreSQL's own execution time per operation (pg_stat_statements), when available
    baseline_server_ms: float | None = None
    head_server_ms: float | None = None
    load_average: float | None = None  # the machine's 1-minute load average after the cell
    same_result: bool | None = None
    skipped: str | None = None  # kept in results.json for its readers; every scenario runs now
    error: str | None = None
    baseline_result: Any = None
    head_result: Any = None


@dataclass
class BenchResult:
    scale: str
    runs: int
    generate_seconds: float
    upgrade_seconds: float
    context: dict[str, str]
    measurements: list[Measurement] = field(default_factory=list)
    cleanup: list[memory_cleanup.CleanupResult] = field(default_factory=list)
    cleanup_error: str | None = None
    cleanup_same_result: bool | None = None
    storage: dict[str, list[storage.TableStorage]] = field(default_factory=dict)
    # 1-minute load average at the start and the end: was the machine busy with other work?
    load_average: list[float] = field(default_factory=list)


def engine_for(url: URL, prepare_threshold: int | None) -> Engine:
    return create_engine(
        url, pool_size=2, max_overflow=0, connect_args={"prepare_threshold": prepare_threshold}
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


def _measure(
    scenario: scenarios.Scenario,
    mode: str,
    engines: dict[str, Engine],
    ctx: Context,
    runs: int,
    warmup: int,
    server_time: bool,
) -> Measurement:
    found: dict[str, Any] = {}
    for state, access in (("baseline", scenario.baseline), ("head", scenario.head)):
        engine = engines[state]

        def call(engine: Engine = engine, access: scenarios.Access = access) -> Any:
            with Session(engine) as session:
                return access(session, ctx)

        with count_queries(engine) as counter:
            found[f"{state}_result"] = call()
        found[f"{state}_statements"] = counter.count
        before = (lambda e=engine: servertime.reset(e)) if server_time else None
        found[state] = time_calls(call, runs=runs, warmup=warmup, before_timed=before)
        if server_time:
            found[f"{state}_server_ms"] = servertime.total_exec_ms(engine) / runs
    same = _canonical(found["baseline_result"]) == _canonical(found["head_result"])
    return Measurement(
        scenario.key, mode, load_average=os.getloadavg()[0], same_result=same, **found
    )


def run_scenarios(states: States, *, runs: int, warmup: int, progress: Progress) -> BenchResult:
    """Time every scenario at both states in both modes, then storage, then memory cleanup."""
    setup = engine_for(states.baseline_url, 5)
    try:
        with setup.connect() as conn:
            ctx = resolve(conn, states.dataset)
        server_time = servertime.enable(setup)
    finally:
        setup.dispose()
    head_setup = engine_for(states.head_url, 5)
    try:
        server_time = servertime.enable(head_setup) and server_time
    finally:
        head_setup.dispose()
    result = BenchResult(
        states.scale, runs, states.generate_seconds, states.upgrade_seconds, ctx.describe()
    )
    result.load_average.append(os.getloadavg()[0])
    for mode, threshold in MODES:
        engines = {
            "baseline": engine_for(states.baseline_url, threshold),
            "head": engine_for(states.head_url, threshold),
        }
        try:
            for scenario in scenarios.SCENARIOS:
                try:
                    m = _measure(scenario, mode, engines, ctx, runs, warmup, server_time)
                except Exception as exc:
                    result.measurements.append(Measurement(scenario.key, mode, error=_error(exc)))
                    progress(f"  {scenario.title} [{mode}]: ERROR {_error(exc)}")
                    continue
                result.measurements.append(m)
                assert m.baseline is not None
                assert m.head is not None
                progress(
                    f"  {scenario.title} [{mode}]: baseline p95 {m.baseline.p95_ms:.2f} ms,"
                    f" head p95 {m.head.p95_ms:.3f} ms, same result: {m.same_result}"
                )
        finally:
            for engine in engines.values():
                engine.dispose()
    result.storage = {
        "baseline": storage.measure(states.baseline_url),
        "head": storage.measure(states.head_url),
    }
    try:
        result.cleanup = memory_cleanup.compare(states, ctx.sample_agent_id)
    except Exception as exc:
        result.cleanup_error = _error(exc)
        progress(f"  memory cleanup: ERROR {result.cleanup_error}")
    else:
        base, head = result.cleanup
        result.cleanup_same_result = (base.rows_deleted, base.remaining) == (
            head.rows_deleted,
            head.remaining,
        )
        for run in result.cleanup:
            p95 = f"{run.inserts.p95_ms:.2f} ms" if run.inserts else "n/a"
            progress(
                f"  memory cleanup [{run.state}]: {run.rows_deleted} rows in {run.seconds:.2f} s,"
                f" concurrent insert p95 {p95}"
            )
    result.load_average.append(os.getloadavg()[0])
    return result
