"""`pyglue bench` and `pyglue loadtest`: they build their own databases, so no Engine is passed."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from pyglue.bench import datagen, loadreport, loadtest, report, states
from pyglue.bench.run import run_scenarios
from pyglue.bench.timing import DEFAULT_RUNS, DEFAULT_WARMUP


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def _count(minimum: int) -> Any:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, not {value!r}")
        return number

    return parse


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {value}")
    return number


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the bench and loadtest subcommands to pyglue's parser."""
    scales = sorted(datagen.SCALES)
    p = sub.add_parser(
        "bench", parents=[common], help="the before/after benchmark on generated data"
    )
    p.add_argument("--scale", choices=scales, default="small", help="dataset size (default small)")
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="report directory")
    p.add_argument(
        "--runs", type=_count(1), default=DEFAULT_RUNS, help="timed runs per cell (default 200)"
    )
    p.add_argument(
        "--warmup", type=_count(0), default=DEFAULT_WARMUP, help="untimed runs first (default 20)"
    )
    p.add_argument("--seed", type=int, default=42)
    p = sub.add_parser("loadtest", parents=[common], help="simulated users against both states")
    p.add_argument("--users", type=_users, default=[100, 300, 500], help="e.g. 100,300,500")
    p.add_argument(
        "--duration", type=_positive, default=60.0, help="seconds per phase (default 60)"
    )
    p.add_argument("--state", choices=("baseline", "head", "both"), default="both")
    p.add_argument("--scale", choices=scales, default="small", help="dataset size (default small)")
    p.add_argument("--think", type=_positive, default=loadtest.THINK_S, help="mean think time, s")
    p.add_argument("--out", type=Path, default=None, help="also write loadtest.md/.json here")
    p.add_argument("--seed", type=int, default=42)


def cmd_bench(args: argparse.Namespace) -> int:
    with states.server(args.database_url) as srv:
        prepared = states.prepare(srv, args.scale, seed=args.seed, progress=_progress)
        result = run_scenarios(prepared, runs=args.runs, warmup=args.warmup, progress=_progress)
    files = report.write(result, args.out)
    print(report.markdown(result))
    print("written: " + ", ".join(str(p) for p in files.values()))
    return 0


def cmd_loadtest(args: argparse.Namespace) -> int:
    with states.server(args.database_url) as srv:
        prepared = states.prepare(srv, args.scale, seed=args.seed, progress=_progress)
        urls = {"baseline": prepared.baseline_url, "head": prepared.head_url}
        if args.state != "both":
            urls = {args.state: urls[args.state]}
        phases, left_out = asyncio.run(
            loadtest.run(
                urls,
                args.users,
                args.duration,
                think_s=args.think,
                heaviest=getattr(prepared.dataset, "heaviest_user_id", None),
                progress=_progress,
            )
        )
    text = loadreport.markdown(phases, think_s=args.think, scale=args.scale, left_out=left_out)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "loadtest.md").write_text(text)
        (args.out / "loadtest.json").write_text(
            json.dumps(report._jsonable(phases), indent=2) + "\n"
        )
    return 0
