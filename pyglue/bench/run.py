"""`pyglue bench scenarios`: every scenario at both states in both psycopg prepare modes."""

from __future__ import annotations

import contextlib
import json
import os
import traceback
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from pyglue.bench import memory_cleanup, proxy, scenarios, server_side
from pyglue.bench.context import Context, resolve
from pyglue.bench.harness import Progress, States
from pyglue.bench.timing import Timing, time_calls
from pyglue.monitoring import count_queries

RTT_MS = 0.5  # a network round trip, as between an app server and its database
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
    # the medians again, through pyglue.bench.proxy (a measured network round trip)
    baseline_at_rtt: Timing | None = None
    head_at_rtt: Timing | None = None
    same_result: bool | None = None
    skipped: str | None = None  # why a cell did not run; kept in results.json for its readers
    error: str | None = None


@dataclass
class BenchResult:
    scale: str
    rows: int  # the dataset's rows, all tables
    runs: int
    generate_seconds: float
    upgrade_seconds: float
    context: dict[str, str]
    measurements: list[Measurement] = field(default_factory=list)
    cleanup: list[memory_cleanup.CleanupResult] = field(default_factory=list)
    cleanup_error: str | None = None
    cleanup_same_result: bool | None = None
    storage: dict[str, list[server_side.TableStorage]] = field(default_factory=dict)
    # 1-minute load average at the start and the end: was the machine busy with other work?
    load_average: list[float] = field(default_factory=list)
    proxy_rtt_ms: float | None = None  # what the proxy added per round trip, as it measured
    proxy_error: str | None = None


def _engines(urls: dict[str, URL], prepare_threshold: int | None) -> dict[str, Engine]:
    args = {"prepare_threshold": prepare_threshold}
    return {
        k: create_engine(u, pool_size=2, max_overflow=0, connect_args=args) for k, u in urls.items()
    }


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


def _caller(scenario: scenarios.Scenario, state: str, engine: Engine, ctx: Context) -> Any:
    access: scenarios.Access = getattr(scenario, state)

    def call() -> Any:
        with Session(engine) as session:
            return access(session, ctx)

    return call


def _measure(
    scenario: scenarios.Scenario, mode: str, engines: dict[str, Engine], far: dict[str, Engine],
    ctx: Context, runs: int, warmup: int, server_time: bool,
) -> Measurement:  # fmt: skip
    """Both states direct, then (with `far`, engines through the delaying proxy) again at a
    network's round trip, right after: the same load on the machine for both figures."""
    found: dict[str, Any] = {}
    results = []
    for state, engine in engines.items():
        call = _caller(scenario, state, engine, ctx)
        with count_queries(engine) as counter:
            results.append(json.dumps(call(), sort_keys=True, default=str))
        found[f"{state}_statements"] = counter.count
        reset = (lambda e=engine: server_side.reset_statements(e)) if server_time else None
        found[state] = time_calls(call, runs=runs, warmup=warmup, before_timed=reset)
        if server_time:
            found[f"{state}_server_ms"] = server_side.execution_ms(engine) / runs
        if state in far:
            remote = _caller(scenario, state, far[state], ctx)
            found[f"{state}_at_rtt"] = time_calls(remote, runs=runs, warmup=warmup)
    same = results[0] == results[1]
    return Measurement(
        scenario.key, mode, load_average=os.getloadavg()[0], same_result=same, **found
    )


def run_scenarios(states: States, *, runs: int, warmup: int, progress: Progress) -> BenchResult:
    """Storage, every scenario at both states in both modes (direct and through the delaying
    proxy), then memory cleanup."""
    urls: dict[str, URL] = {"baseline": states.baseline_url, "head": states.head_url}
    setup = _engines(urls, 5)
    try:
        with setup["baseline"].connect() as conn:
            ctx = resolve(conn, states.dataset)
        server_time = all([server_side.enable_statements(e) for e in setup.values()])
        storage = {state: server_side.storage(engine) for state, engine in setup.items()}
    finally:
        for engine in setup.values():
            engine.dispose()
    sc = states.dataset.scale  # rows of the main tables (tools, metrics and such left out)
    rows = sc.users + sc.agents + sc.agent_executions + sc.workflow_executions + sc.memories
    rows += sc.workflows * (1 + sc.blocks_per_workflow + sc.edges_per_workflow)
    result = BenchResult(
        states.scale, rows, runs, states.generate_seconds, states.upgrade_seconds, ctx.describe()
    )
    result.storage, result.load_average = storage, [os.getloadavg()[0]]
    with contextlib.ExitStack() as stack:
        try:
            proxied, result.proxy_rtt_ms = stack.enter_context(proxy.delaying(urls["head"], RTT_MS))
            far_urls = {k: proxied.set(database=u.database) for k, u in urls.items()}
            progress(f"  the delaying proxy adds {result.proxy_rtt_ms:.3f} ms per round trip")
        except Exception as exc:
            result.proxy_error, far_urls = _error(exc), {}
            progress(f"  the delaying proxy: ERROR {result.proxy_error}")
        for mode, threshold in MODES:
            engines, far = _engines(urls, threshold), _engines(far_urls, threshold)
            try:
                for scenario in scenarios.SCENARIOS:
                    label = f"  {scenario.title} [{mode}]:"
                    try:
                        m = _measure(scenario, mode, engines, far, ctx, runs, warmup, server_time)
                    except Exception as exc:
                        result.measurements.append(
                            Measurement(scenario.key, mode, error=_error(exc))
                        )
                        progress(f"{label} ERROR {_error(exc)}")
                        continue
                    result.measurements.append(m)
                    assert m.baseline is not None
                    assert m.head is not None
                    progress(
                        f"{label} baseline p95 {m.baseline.p95_ms:.2f} ms,"
                        f" head p95 {m.head.p95_ms:.3f} ms, same result: {m.same_result}"
                    )
            finally:
                for engine in [*engines.values(), *far.values()]:
                    engine.dispose()
    try:
        result.cleanup = memory_cleanup.compare(states, ctx.sample_agent_id)
    except Exception as exc:
        result.cleanup_error = _error(exc)
        progress(f"  memory cleanup: ERROR {result.cleanup_error}")
    else:
        base, head = result.cleanup
        same = (base.rows_deleted, base.remaining) == (head.rows_deleted, head.remaining)
        result.cleanup_same_result = same
        for run in result.cleanup:
            p95 = {op: f"{t.p95_ms:.2f}" if t else "n/a" for op, t in run.latency.items()}
            progress(
                f"  memory cleanup [{run.state}]: {run.rows_per_second:,.0f} rows/s, p95 ms {p95}"
            )
    result.load_average.append(os.getloadavg()[0])
    return result
