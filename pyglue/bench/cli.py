"""`pyglue bench <benchmark>`: every benchmark of agentdb, one command line.

Each subcommand takes --database-url (default $DATABASE_URL): its databases
are created on that server and dropped at the end; without one a throwaway
cluster is started. `pyglue bench [options]` without a subcommand runs the
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

from pyglue.bench import (
    datagen,
    harness,
    instrument_overhead,
    loadreport,
    loadtest,
    memory_cleanup,
    output,
    report,
    stats_writes,
)
from pyglue.bench.run import run_scenarios
from pyglue.bench.timing import DEFAULT_RUNS, DEFAULT_WARMUP

SCALES = sorted(datagen.SCALES)
DEMO_OUT = Path(os.environ.get("PYGLUE_DEMO_OUT", "bench-results"))


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _count(minimum: int, step: int = 1) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum or number % step:
            multiple = f", a multiple of {step}" if step > 1 else ""
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}{multiple}, not {value!r}"
            )
        return number

    return parse


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {value}")
    return number


def _users(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--users takes counts like 100,300,500, not {value!r}"
        ) from None
    if not counts or any(c < 1 or c > 5000 for c in counts):
        raise argparse.ArgumentTypeError("--users: each count from 1 to 5000")
    return counts


def _publish(out: Path | None, stem: str, text: str, data: Any) -> None:
    print(text)
    output.write(out, {f"{stem}.md": text, f"{stem}.json": data})


def _scenarios(states: harness.States, runs: int, warmup: int, out: Path) -> None:
    result = run_scenarios(states, runs=runs, warmup=warmup, progress=_progress)
    files = report.write(result, out)
    print(report.markdown(result))
    print("written: " + ", ".join(str(p) for p in files))


def _loadtest(states: harness.States, args: argparse.Namespace) -> None:
    urls = {"baseline": states.baseline_url, "head": states.head_url}
    if args.state != "both":
        urls = {args.state: urls[args.state]}
    phases = asyncio.run(
        loadtest.run(
            urls, args.users, args.duration, think_s=args.think,
            heaviest=states.dataset.heaviest_user_id, progress=_progress,
        )
    )  # fmt: skip
    text = loadreport.markdown(phases, think_s=args.think, scale=states.scale)
    _publish(args.out, "loadtest", text, phases)


def cmd_scenarios(args: argparse.Namespace) -> int:
    with harness.server(args.database_url) as srv:
        states = harness.prepare(srv, args.scale, seed=args.seed, progress=_progress)
        _scenarios(states, args.runs, args.warmup, args.out)
    return 0


def cmd_loadtest(args: argparse.Namespace) -> int:
    with harness.server(args.database_url) as srv:
        _loadtest(harness.prepare(srv, args.scale, seed=args.seed, progress=_progress), args)
    return 0


def cmd_stats_writes(args: argparse.Namespace) -> int:
    sections: list[str] = []
    data: dict[str, Any] = {}
    with harness.server(args.database_url) as srv:
        if args.durable and srv.throwaway:
            stats_writes.make_durable(srv)
        sections.append(stats_writes.settings(srv))
        if not args.skip_throughput:
            data["throughput"] = stats_writes.throughput(srv, args.seconds, args.rounds)
            sections.append(
                f"insert-then-complete pairs/s with the stats triggers"
                f" (pgbench, {args.seconds} s x {args.rounds}, median)\n\n"
                + stats_writes.throughput_table(data["throughput"])
            )
        if not args.skip_dashboard:
            notes, data["dashboard"] = stats_writes.dashboard_calls(
                srv, args.scale, args.samples, _progress
            )
            sections.append("\n".join([*notes, ""]) + "\n" + stats_writes.dashboard_table(
                data["dashboard"]))  # fmt: skip
    _publish(args.out, "stats-writes", "\n\n".join(sections), data)
    return 0


def cmd_memory_cleanup(args: argparse.Namespace) -> int:
    with harness.server(args.database_url) as srv:
        url = srv.url(srv.create_database("bench_memory_cleanup"))
        results = memory_cleanup.run(
            url.render_as_string(hide_password=False), expired=args.expired, live=args.live,
            batch_size=args.batch_size, naive=args.naive, repeat=args.repeat,
        )  # fmt: skip
    _publish(args.out, "memory-cleanup", memory_cleanup.report(results), results)
    return 0


def cmd_instrument_overhead(args: argparse.Namespace) -> int:
    with harness.server(args.database_url) as srv:
        url = harness.database(srv, "bench_overhead", None)
        results = instrument_overhead.measure(url, args.rounds, args.statements)
    text = instrument_overhead.report(results, args.statements)
    _publish(args.out, "instrument-overhead", text, results)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """`make demo`: the scenarios at scale small, then a short load test, on one dataset."""
    url = args.database_url or os.environ.get("DATABASE_URL")
    where = f"DATABASE_URL ({url.split('@')[-1]})" if url else "a throwaway PostgreSQL cluster"
    print(f"# agentdb demo on {where}\n", flush=True)
    with harness.server(args.database_url) as srv:
        states = harness.prepare(srv, "small", seed=42, progress=_progress)
        _scenarios(states, DEFAULT_RUNS, DEFAULT_WARMUP, args.out)
        load = argparse.Namespace(state="both", users=[20, 50], duration=10.0, out=args.out)
        load.think = loadtest.THINK_S
        _loadtest(states, load)
    return 0


def _scale(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--scale", choices=SCALES, default=default, help=f"dataset size ({default})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyglue bench", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url", metavar="URL", help="server to build on (default: $DATABASE_URL,"
        " else a throwaway cluster); the role needs CREATEDB",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="benchmark", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> Any:
        p = sub.add_parser(name, parents=[common], help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    p = command("scenarios", cmd_scenarios, "the before/after table on generated data")
    _scale(p, "small")
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="report directory")
    p.add_argument("--runs", type=_count(1), default=DEFAULT_RUNS, help="timed runs per cell")
    p.add_argument("--warmup", type=_count(0), default=DEFAULT_WARMUP, help="untimed runs first")
    p.add_argument("--seed", type=int, default=42)
    p = command("loadtest", cmd_loadtest, "simulated users against both states")
    p.add_argument("--users", type=_users, default=[100, 300, 500], help="e.g. 100,300,500")
    p.add_argument("--duration", type=_positive, default=60.0, help="seconds per phase")
    p.add_argument("--state", choices=("baseline", "head", "both"), default="both")
    _scale(p, "small")
    p.add_argument("--think", type=_positive, default=loadtest.THINK_S, help="mean think time, s")
    p.add_argument("--out", type=Path, help="also write loadtest.md/.json here")
    p.add_argument("--seed", type=int, default=42)
    p = command("stats-writes", cmd_stats_writes, "write cost of the stats triggers; dashboard")
    p.add_argument("--durable", action="store_true", help="throwaway cluster with fsync on")
    p.add_argument("--seconds", type=_count(1), default=10, help="per pgbench run")
    p.add_argument("--rounds", type=_count(1), default=2, help="runs per configuration (median)")
    _scale(p, "full")
    p.add_argument("--samples", type=_count(1), default=2000, help="timed calls per dashboard call")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-dashboard", action="store_true")
    p.add_argument("--out", type=Path, help="also write stats-writes.md/.json here")
    p = command("memory-cleanup", cmd_memory_cleanup, "insert latency during memory cleanup")
    p.add_argument("--expired", type=_count(1), default=150_000, help="expired rows to delete")
    p.add_argument("--live", type=_count(0), default=50_000, help="current rows that stay")
    p.add_argument("--batch-size", type=_count(1), default=memory_cleanup.BATCH_SIZE)
    p.add_argument("--naive", action="store_true", help="also time the plan's DELETEs")
    p.add_argument("--repeat", type=_count(1), default=3, help="cleanups per kind, pooled")
    p.add_argument("--out", type=Path, help="also write memory-cleanup.md/.json here")
    p = command("instrument-overhead", cmd_instrument_overhead, "cost of monitoring.instrument")
    p.add_argument("--rounds", type=_count(1), default=10)
    per_unit = instrument_overhead.PER_UNIT
    p.add_argument("--statements", type=_count(per_unit, per_unit), default=10_000)
    p.add_argument("--out", type=Path, help="also write instrument-overhead.md/.json here")
    p = command("demo", cmd_demo, "what `make demo` runs: the scenarios, then a short load test")
    p.add_argument("--out", type=Path, default=DEMO_OUT, help="report directory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, "scenarios")  # `pyglue bench [options]` has always run the scenarios
    parsed = build_parser().parse_args(args)
    handler: Callable[[argparse.Namespace], int] = parsed.handler
    return handler(parsed)


if __name__ == "__main__":
    raise SystemExit(main())
