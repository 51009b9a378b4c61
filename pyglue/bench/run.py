"""Run every scenario against both states, in both psycopg prepare modes."""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from pyglue.bench import cleanup, head, scenarios, servertime, storage
from pyglue.bench.context import Context, resolve
from pyglue.bench.states import Progress, States
from pyglue.bench.timing import DEFAULT_RUNS, DEFAULT_WARMUP, Timing, time_calls

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
    skipped: str | None = None
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
    cleanup: list[cleanup.CleanupResult] = field(default_factory=list)
    cleanup_error: str | None = None
    cleanup_same_result: bool | None = None
    storage: dict[str, list[storage.TableStorage]] = field(default_factory=dict)
    # 1-minute load average at the start and the end: was the machine busy with other work?
    load_average: list[float] = field(default_factory=list)


class _Counter:
    count = 0

    def on_execute(self, *args: Any) -> None:
        self.count += 1


@contextmanager
def counting(engine: Engine) -> Iterator[Any]:
    """pyglue.monitoring.count_queries when installed, else the same count done here."""
    count_queries = head.helper("monitoring", "count_queries")
    if count_queries is not None:
        with count_queries(engine) as counter:
            yield counter
        return
    fallback = _Counter()
    event.listen(engine, "before_cursor_execute", fallback.on_execute)
    try:
        yield fallback
    finally:
        event.remove(engine, "before_cursor_execute", fallback.on_execute)


def engine_for(url: URL, prepare_threshold: int | None) -> Engine:
    return create_engine(
        url, pool_size=2, max_overflow=0, connect_args={"prepare_threshold": prepare_threshold}
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _call(engine: Engine, access: scenarios.Access, ctx: Context) -> Callable[[], Any]:
    def call() -> Any:
        with Session(engine) as session:
            return access(session, ctx)

    return call


def _measure(
    scenario: scenarios.Scenario,
    mode: str,
    engines: dict[str, Engine],
    ctx: Context,
    runs: int,
    warmup: int,
    server_time: bool,
) -> Measurement:
    results: dict[str, Any] = {}
    statements: dict[str, int] = {}
    timings: dict[str, Timing] = {}
    server_ms: dict[str, float | None] = {"baseline": None, "head": None}
    for state, access in (("baseline", scenario.baseline), ("head", scenario.head)):
        engine = engines[state]
        call = _call(engine, access, ctx)
        with counting(engine) as counter:
            results[state] = call()
        statements[state] = counter.count
        before = (lambda e=engine: servertime.reset(e)) if server_time else None
        timings[state] = time_calls(call, runs=runs, warmup=warmup, before_timed=before)
        if server_time:
            server_ms[state] = servertime.total_exec_ms(engine) / runs
    return Measurement(
        scenario=scenario.key,
        mode=mode,
        baseline=timings["baseline"],
        head=timings["head"],
        baseline_statements=statements["baseline"],
        head_statements=statements["head"],
        baseline_server_ms=server_ms["baseline"],
        head_server_ms=server_ms["head"],
        load_average=os.getloadavg()[0],
        same_result=_canonical(results["baseline"]) == _canonical(results["head"]),
        baseline_result=results["baseline"],
        head_result=results["head"],
    )


def _enable_server_time(url: URL) -> bool:
    engine = engine_for(url, 5)
    try:
        return servertime.enable(engine)
    finally:
        engine.dispose()


def run_scenarios(
    states: States,
    *,
    runs: int = DEFAULT_RUNS,
    warmup: int = DEFAULT_WARMUP,
    only: set[str] | None = None,
    progress: Progress = print,
) -> BenchResult:
    """Time every scenario at both states in both modes, then storage, then memory cleanup."""
    setup = engine_for(states.baseline_url, 5)
    try:
        with setup.connect() as conn:
            ctx = resolve(conn, states.dataset)
    finally:
        setup.dispose()
    head_setup = engine_for(states.head_url, 5)
    try:
        with head_setup.connect() as conn:
            missing = head.missing_routines(conn)
    finally:
        head_setup.dispose()
    result = BenchResult(
        scale=states.scale,
        runs=runs,
        generate_seconds=states.generate_seconds,
        upgrade_seconds=states.upgrade_seconds,
        context=ctx.describe(),
    )
    result.load_average.append(os.getloadavg()[0])
    chosen = [s for s in scenarios.SCENARIOS if only is None or s.key in only]
    server_time = all(_enable_server_time(url) for url in (states.baseline_url, states.head_url))
    for mode, threshold in MODES:
        engines = {
            "baseline": engine_for(states.baseline_url, threshold),
            "head": engine_for(states.head_url, threshold),
        }
        try:
            for scenario in chosen:
                reason = scenarios.unavailable(scenario, missing)
                if reason is not None:
                    result.measurements.append(Measurement(scenario.key, mode, skipped=reason))
                    progress(f"  {scenario.title} [{mode}]: {reason}")
                    continue
                try:
                    m = _measure(scenario, mode, engines, ctx, runs, warmup, server_time)
                except Exception as exc:
                    detail = "".join(traceback.format_exception_only(exc)).strip()
                    result.measurements.append(Measurement(scenario.key, mode, error=detail))
                    progress(f"  {scenario.title} [{mode}]: ERROR {detail}")
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
    if only is None or "memory_cleanup" in only:
        _run_cleanup(states, ctx, result, missing, progress)
    result.load_average.append(os.getloadavg()[0])
    return result


def _run_cleanup(
    states: States, ctx: Context, result: BenchResult, missing: set[str], progress: Progress
) -> None:
    if "run_memory_maintenance" in missing:
        result.cleanup_error = f"not available: {head.SQL_ROUTINES['run_memory_maintenance']}"
        progress(f"  memory cleanup: {result.cleanup_error}")
        return
    try:
        head_run, started_at = cleanup.run_head(states.head_url, ctx.sample_agent_id)
        base_run = cleanup.run_baseline(states.baseline_url, ctx.sample_agent_id, started_at)
    except Exception as exc:
        result.cleanup_error = "".join(traceback.format_exception_only(exc)).strip()
        progress(f"  memory cleanup: ERROR {result.cleanup_error}")
        return
    result.cleanup = [base_run, head_run]
    result.cleanup_same_result = (
        base_run.rows_deleted == head_run.rows_deleted and base_run.remaining == head_run.remaining
    )
    for run in result.cleanup:
        p95 = f"{run.inserts.p95_ms:.2f} ms" if run.inserts else "n/a"
        progress(
            f"  memory cleanup [{run.state}]: {run.rows_deleted} rows in {run.seconds:.2f} s,"
            f" concurrent insert p95 {p95}"
        )
