"""`pyglue bench <benchmark>`: every benchmark of agentdb, one command line.

Each benchmark takes --database-url (default $DATABASE_URL): its databases are
created on that server and dropped at the end; without one a throwaway
cluster is started. `pyglue bench [options]` without a benchmark runs the
scenarios, as it always has. Argument errors exit 2 naming the option.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError

from pyglue.bench import (
    datagen,
    harness,
    history_scale,
    instrument_overhead,
    loadtest,
    memory_cleanup,
    output,
    pgbench,
    report,
    retention,
    stats_writes,
)
from pyglue.bench.harness import Server, States
from pyglue.bench.run import run_scenarios
from pyglue.bench.timing import DEFAULT_RUNS, DEFAULT_WARMUP
from pyglue.errors import PyglueError
from pyglue.routines import translate

Namespace = argparse.Namespace
RESULTS = Path("bench-results")


class _ShowDefaults(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _publish(args: Namespace, text: str, data: Any) -> None:
    print(text)
    output.write(args.out, {f"{args.benchmark}.md": text, f"{args.benchmark}.json": data})


def _scenarios(states: States, args: Namespace) -> None:
    result = run_scenarios(states, runs=args.runs, warmup=args.warmup, progress=_progress)
    files = report.write([result], args.out)
    print(report.markdown([result]))
    print("written: " + ", ".join(str(p) for p in files))


def _loadtest(states: States, args: Namespace) -> tuple[str, Any]:
    urls = {"baseline": states.baseline_url, "head": states.head_url}
    urls = urls if args.state == "both" else {args.state: urls[args.state]}
    heaviest = states.dataset.heaviest_user_id
    if args.driver == "pgbench":
        found = pgbench.run(urls, args.users, args.duration, args.think, heaviest, _progress)
        text = pgbench.markdown(found, think_s=args.think, scale=states.scale)
        _publish(args, text, found)
        return text, found
    with pgbench.pinned_client(states.head_url, _progress):  # the client off the server's core
        phases = asyncio.run(
            loadtest.run(urls, args.users, args.duration, args.think, heaviest, _progress)
        )
    text = loadtest.markdown(phases, think_s=args.think, scale=states.scale)
    _publish(args, text, phases)
    return text, phases


def _on_generated_data(run: Callable[[States, Namespace], object]) -> Callable[..., None]:
    def handler(args: Namespace, srv: Server) -> None:
        run(harness.prepare(srv, args.scale, seed=args.seed, progress=_progress), args)

    return handler


def _stats_writes(args: Namespace, srv: Server) -> None:
    if args.durable:
        srv.make_durable()
    sections, data = [stats_writes.settings(srv)], dict[str, Any]()
    if not args.skip_throughput:
        data["throughput"] = stats_writes.throughput(
            srv, args.seconds, args.rounds, args.designs, args.slots
        )
        sections.append(
            stats_writes.throughput_table(data["throughput"], args.seconds, args.rounds)
        )
        _progress(sections[-1])  # shown now: the dashboard part takes minutes more
    if not args.skip_dashboard:
        notes, data["dashboard"] = stats_writes.dashboard_at_scale(
            srv, args.scale, args.seed, args.samples, _progress, args.designs, args.slots
        )
        sections.append(notes + "\n\n" + stats_writes.dashboard_table(data["dashboard"]))
    _publish(args, "\n\n".join(sections), data)


def _memory_cleanup(args: Namespace, srv: Server) -> None:
    # A cleanup's cost is mostly WAL (full-page images, the flushes its
    # commits wait for): with fsync and full_page_writes off, as a throwaway
    # cluster starts, most of it would not be measured.
    srv.make_durable()
    url = harness.database(srv, "bench_memory_cleanup", None).render_as_string(hide_password=False)
    options = {k: getattr(args, k) for k in ("expired", "live", "batch_size", "naive", "repeat")}
    results = memory_cleanup.run(url, **options)
    _publish(args, memory_cleanup.table(results, "cleanup"), results)


def _retention(args: Namespace, srv: Server) -> None:
    url = harness.database(srv, "bench_retention", None).render_as_string(hide_password=False)
    results = retention.run(url, rows=args.rows, batch=args.batch_size)
    _publish(args, retention.report(results), results)


def _history_scale(args: Namespace, srv: Server) -> None:
    results = []
    for executions in args.executions:
        url = harness.database(srv, "bench_history", "head").render_as_string(hide_password=False)
        results.append(history_scale.measure(url, executions, args.samples))
    _publish(args, history_scale.report(results), history_scale.as_json(results))


def _instrument_overhead(args: Namespace, srv: Server) -> None:
    url = harness.database(srv, "bench_overhead", None)
    results = instrument_overhead.measure(url, args.rounds, args.statements)
    _publish(args, instrument_overhead.report(results, args.statements), results)


# the demo's two scales (10x the rows apart) and their timed runs per cell
DEMO_SCALES = (("small", 50), ("medium", 20))


def _demo(args: Namespace, srv: Server) -> None:
    """What `make demo` runs: the scenarios at two scales, how they grow, a short load test."""
    results, states = [], None
    for scale, runs in DEMO_SCALES:
        states = harness.prepare(srv, scale, seed=42, progress=_progress)
        results.append(run_scenarios(states, runs=runs, warmup=5, progress=_progress))
        print(report.section(results[-1]), flush=True)
        if scale != DEMO_SCALES[-1][0]:
            srv.drop_databases()  # the next scale's dataset replaces this one
    assert states is not None
    print(report.growth_table(results) + "\n", flush=True)
    load_args = ["loadtest", "--users", "20,50", "--duration", "10", "--out", str(args.out)]
    text, phases = _loadtest(states, _parse(load_args))
    files = report.write(results, args.out, "\n" + text, {"loadtest": phases})
    print("written: " + ", ".join(str(p) for p in files))


def _count(minimum: int, step: int = 1) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum or number % step:
            multiple = f", a multiple of {step}" if step > 1 else ""
            message = f"must be an integer >= {minimum}{multiple}, not {value!r}"
            raise argparse.ArgumentTypeError(message)
        return number

    return parse


def _positive(value: str) -> float:
    if float(value) <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {value}")
    return float(value)


def _users(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        message = f"--users takes counts like 100,300,500, not {value!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not counts or any(c < 1 or c > 5000 for c in counts):
        raise argparse.ArgumentTypeError("--users: each count from 1 to 5000")
    return counts


def _executions(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        counts = []
    if not counts or any(c < 1000 for c in counts):
        message = f"--executions takes counts of at least 1000 like 1000000,10000000, not {value!r}"
        raise argparse.ArgumentTypeError(message)
    return counts


def _designs(value: str) -> tuple[str, ...]:
    designs = tuple(v.strip() for v in value.split(",") if v.strip())
    if (
        not designs
        or any(d not in stats_writes.DESIGNS for d in designs)
        or len(set(designs)) < len(designs)
    ):
        allowed = ", ".join(stats_writes.DESIGNS)
        raise argparse.ArgumentTypeError(
            f"--designs takes distinct names of {allowed}, not {value!r}"
        )
    return designs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyglue bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="benchmark", required=True)
    scales = sorted(datagen.SCALES)

    def add(name: str, handler: Callable[..., None], text: str, out: Path | None = None) -> Any:
        p = sub.add_parser(name, help=text, description=text, formatter_class=_ShowDefaults)
        p.set_defaults(handler=handler)
        p.add_argument("--database-url", metavar="URL", help="server to build on (the role needs"
                       " CREATEDB); default $DATABASE_URL, else a throwaway cluster")  # fmt: skip
        p.add_argument("--out", type=Path, default=out, help="also write the report here")
        return p

    def dataset(p: argparse.ArgumentParser, scale: str) -> None:
        p.add_argument("--scale", choices=scales, default=scale, help="dataset size")
        p.add_argument("--seed", type=int, default=42, help="dataset seed")

    p = add("scenarios", _on_generated_data(_scenarios), "the before/after table", RESULTS)
    dataset(p, "small")
    p.add_argument("--runs", type=_count(1), default=DEFAULT_RUNS, help="timed runs per cell")
    p.add_argument("--warmup", type=_count(0), default=DEFAULT_WARMUP, help="untimed runs first")
    p = add("loadtest", _on_generated_data(_loadtest), "simulated users against both states")
    dataset(p, "small")
    p.add_argument("--users", "--clients", dest="users", type=_users, default=[100, 300, 500],
                   help="simulated users (pgbench clients), e.g. 100,300,500")  # fmt: skip
    drivers = ("python", "pgbench")  # the ORM's code on asyncio; SQL scripts through PgBouncer
    p.add_argument("--driver", choices=drivers, default="python", help="load generator")
    p.add_argument("--duration", type=_positive, default=60.0, help="seconds per phase")
    p.add_argument("--state", choices=("baseline", "head", "both"), default="both", help="states")
    p.add_argument("--think", type=_positive, default=loadtest.THINK_S, help="mean think time, s")
    p = add("stats-writes", _stats_writes, "write cost of the stats triggers, dashboard at scale")
    dataset(p, "full")
    p.add_argument("--durable", action="store_true", help="throwaway cluster with fsync on")
    p.add_argument("--seconds", type=_count(1), default=10, help="per pgbench run")
    p.add_argument("--rounds", type=_count(1), default=2, help="runs per configuration (median)")
    p.add_argument("--samples", type=_count(1), default=2000, help="timed calls per dashboard call")
    p.add_argument("--skip-throughput", action="store_true", help="no pgbench runs")
    p.add_argument(
        "--designs",
        type=_designs,
        default=("deltas",),
        help="designs beside no-stats, e.g. deltas,slots ((a) head; (b) bench-only)",
    )
    p.add_argument("--slots", type=_count(1), default=stats_writes.SLOTS_DEFAULT,
                   help="slot rows per key for design (b)")  # fmt: skip
    p.add_argument("--skip-dashboard", action="store_true", help="no dataset, no dashboard")
    p = add(
        "memory-cleanup",
        _memory_cleanup,
        "rows/s, and the app's inserts and touches, during memory cleanup",
    )
    p.add_argument("--expired", type=_count(1), default=150_000, help="expired rows to delete")
    p.add_argument("--live", type=_count(0), default=50_000, help="current rows that stay")
    p.add_argument("--batch-size", type=_count(1), default=memory_cleanup.BATCH_SIZE, help="rows")
    p.add_argument("--naive", action="store_true", help="also time the plan's DELETEs")
    p.add_argument("--repeat", type=_count(1), default=3, help="cleanups per kind, pooled")
    p = add("retention", _retention, "retire a month: DROP of its partition vs batched DELETE")
    p.add_argument("--rows", type=_count(1), default=1_000_000, help="rows in the month")
    p.add_argument("--batch-size", type=_count(1), default=10_000, help="rows per DELETE")
    p = add("history-scale", _history_scale, "history page p95 against the partitioned history")
    p.add_argument("--executions", type=_executions, default=[1_000_000, 10_000_000],
                   help="workflow runs in the year, e.g. 1000000,10000000")  # fmt: skip
    p.add_argument("--samples", type=_count(1), default=500, help="timed pages of each kind")
    p = add("instrument-overhead", _instrument_overhead, "cost of instrument()")
    p.add_argument("--rounds", type=_count(1), default=10, help="rounds, each engine once")
    per_unit = instrument_overhead.PER_UNIT
    p.add_argument(
        "--statements", type=_count(per_unit, per_unit), default=10_000, help="per round"
    )
    demo_out = Path(os.environ.get("PYGLUE_DEMO_OUT", RESULTS))
    text = "what `make demo` runs: scenarios at scales small and medium, a short load test"
    add("demo", _demo, text, demo_out)
    return parser


def _parse(argv: Sequence[str]) -> Namespace:
    args = list(argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, "scenarios")  # `pyglue bench [options]` has always run the scenarios
    return build_parser().parse_args(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.benchmark == "demo":
        url = args.database_url or os.environ.get("DATABASE_URL")
        where = f"DATABASE_URL ({url.split('@')[-1]})" if url else "a throwaway PostgreSQL cluster"
        print(f"# agentdb demo on {where}\n", flush=True)
    try:
        if getattr(args, "driver", None) == "pgbench":
            pgbench.check_binaries()  # one line naming the package, before any server starts
        with harness.server(args.database_url) as srv:
            args.handler(args, srv)
    except PyglueError as exc:
        return _fail(str(exc))
    except DBAPIError as exc:
        return _fail(str(translate(exc)))
    except psycopg.OperationalError as exc:
        if exc.sqlstate is not None and not exc.sqlstate.startswith("08"):
            raise
        # no answer, or a connection exception: the server cannot be reached
        lines = str(exc).strip().splitlines()
        return _fail(f"cannot reach the database: {lines[0] if lines else type(exc).__name__}")
    return 0


def _fail(message: str) -> int:
    print(f"pyglue: {' '.join(message.splitlines())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
