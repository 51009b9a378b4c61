"""`pyglue ...`: install, status and the maintenance jobs, from a shell or a scheduler.

Every command takes --database-url (default $DATABASE_URL). Every error (bad
input, an unreachable database, what the server refused) is one line on stderr
and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from pyglue import install, maintenance, retention, scheduling, stats, status
from pyglue.dburl import create_engine_for
from pyglue.errors import ConfigurationError, PyglueError
from pyglue.routines import translate

Handler = Callable[[argparse.Namespace, Engine], int]
COMMANDS: dict[str, Handler] = {}


def cmd_install(args: argparse.Namespace, engine: Engine) -> int:
    if args.citus:
        install.check_citus(engine)  # before anything changes
    if args.adopt:
        print(install.adopt(engine))
    if args.revision != "head":
        undone = install.revisions_to_undo(engine, args.revision)
        if undone:
            return _downgrade(args, engine, undone)
    install.upgrade(engine, args.revision, allow_untrusted_schema=args.allow_untrusted_schema)
    with engine.connect() as connection:
        print(f"database at revision {install.current_revision(connection)}")
    if args.citus:
        print(install.convert_to_citus(engine))
    if args.schedule:
        jobs = scheduling.schedule_maintenance(engine)
        for job in jobs:
            print(f"scheduled {job.job_name} ({job.schedule}) as pg_cron job {job.jobid}")
        if not jobs:
            print("pg_cron is not installed in this database: nothing scheduled")
    return 0


def _downgrade(args: argparse.Namespace, engine: Engine, undone: list[str]) -> int:
    """`install --revision R` below the database's revision: only with --downgrade."""
    if not args.downgrade:
        raise ConfigurationError(
            f"the database is at {undone[0]}, above {args.revision}: reaching it means undoing "
            f"{', '.join(undone)}; pass --downgrade to do that"
        )
    losses = install.downgrade(
        engine, args.revision, drop_platform_tables=args.drop_platform_tables
    )
    with engine.connect() as connection:
        print(f"database at revision {install.current_revision(connection) or 'base'}")
    print(f"dropped: {'; '.join(losses) if losses else 'nothing kept only there'}")
    return 0


def cmd_status(args: argparse.Namespace, engine: Engine) -> int:
    for line in status.format_status(status.status(engine)):
        print(line)
    return 0


COMMANDS["install"] = cmd_install
COMMANDS["status"] = cmd_status

# Commands that build and drop their own databases get no Engine.
SelfManaged = Callable[[argparse.Namespace], int]
SELF_MANAGED: dict[str, SelfManaged] = {}


def _bench(args: argparse.Namespace) -> int:
    # imported only when a benchmark runs: the product never imports pyglue.bench
    from pyglue.bench.cli import main as bench_main

    prefix = ["loadtest"] if args.command == "loadtest" else []
    return bench_main([*prefix, *args.bench_args])


SELF_MANAGED["bench"] = _bench
SELF_MANAGED["loadtest"] = _bench  # `pyglue loadtest` = `pyglue bench loadtest`


def _add_bench_parsers(sub: Any) -> None:
    """`pyglue bench ...` and `pyglue loadtest ...`: the rest of the line goes to the bench."""
    for name, text in (
        ("bench", "every benchmark (pyglue bench -h)"),
        ("loadtest", "= bench loadtest"),
    ):
        # prefix "+": every "-..." argument is left for pyglue.bench.cli to parse
        p_bench = sub.add_parser(name, help=text, add_help=False, prefix_chars="+")
        p_bench.add_argument("bench_args", nargs=argparse.REMAINDER)


# --- pyglue maintain <job> ---
def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {value!r}")
    return number


def cmd_maintain_memory(args: argparse.Namespace, engine: Engine) -> int:
    run = maintenance.run_memory_maintenance(
        engine, batch_size=args.batch_size, dry_run=args.dry_run
    )
    if run is None:
        print("this server is a standby: nothing to do (the primary runs the maintenance)")
        return 0
    label = " (dry run: nothing changed)" if run.dry_run else ""
    print(f"{run.job_name} run {run.id}: {run.status}{label}")
    if run.status == "skipped":
        print(f"  {run.counts.get('reason', 'another run is in progress')}")
        return 0
    would = "would " if run.dry_run else ""
    per_policy = ", ".join(f"{count.policy_name} {count.rows}" for count in run.deleted)
    batches = "" if run.dry_run else f" in {run.batches} batch rounds"
    print(f"  {would}consolidate: {run.consolidated} short-term memories into long-term")
    print(f"  {would}delete: {per_policy} ({run.rows_deleted} rows{batches})")
    if run.abandoned_runs:
        print(f"  closed {run.abandoned_runs} abandoned run(s) as failed")
    return 0


def cmd_maintain_retention(args: argparse.Namespace, engine: Engine) -> int:
    run = retention.run_retention_maintenance(
        engine, dry_run=args.dry_run, lock_timeout=timedelta(milliseconds=args.lock_timeout_ms)
    )
    if run is None:
        print("this server is a standby: nothing to do (the primary runs the maintenance)")
        return 0
    label = " (dry run: nothing changed)" if run.dry_run else ""
    print(f"{run.job_name} run {run.id}: {run.status}{label}")
    if run.status == "skipped":
        print(f"  {run.counts.get('reason', 'another run is in progress')}")
        return 0
    would = "would " if run.dry_run else ""
    method = run.counts.get("upkeep_method", "agentdb")
    made = ", ".join(f"{name} {n}" for name, n in sorted(retention.created(run).items()))
    print(f"  {would}create partitions ahead ({method}): {made or 'no policy'}")
    gone = retention.dropped(run)
    if not any(table.partitions for table in gone):
        print(f"  {would}drop: nothing expired")
    for table in gone:
        if table.partitions:
            print(
                f"  {would}drop {table.table_name}: {', '.join(table.partitions)}"
                f" ({table.rows} rows, {table.bytes} bytes)"
            )
    if run.abandoned_runs:
        print(f"  closed {run.abandoned_runs} abandoned run(s) as failed")
    return 0


MAINTAIN_JOBS: dict[str, Handler] = {
    "memory": cmd_maintain_memory,
    "retention": cmd_maintain_retention,
}


def cmd_maintain(args: argparse.Namespace, engine: Engine) -> int:
    return MAINTAIN_JOBS[args.job](args, engine)


COMMANDS["maintain"] = cmd_maintain


def add_maintain_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p_maintain = sub.add_parser("maintain", help="run a maintenance job now (what pg_cron runs)")
    jobs = p_maintain.add_subparsers(dest="job", required=True)
    p_memory = jobs.add_parser(
        "memory", parents=[common], help="consolidate, then delete expired memories in batches"
    )
    p_memory.add_argument(
        "--dry-run", action="store_true", help="record what would change, change nothing"
    )
    p_memory.add_argument(
        "--batch-size",
        type=_positive_int,
        default=maintenance.DEFAULT_BATCH_SIZE,
        help=f"rows per batch (default {maintenance.DEFAULT_BATCH_SIZE})",
    )
    p_retention = jobs.add_parser(
        "retention",
        parents=[common],
        help="create partitions ahead, then drop the months agentdb.retention_policies expire",
    )
    p_retention.add_argument(
        "--dry-run", action="store_true", help="record what would change, change nothing"
    )
    p_retention.add_argument(
        "--lock-timeout-ms",
        type=_positive_int,
        default=int(retention.DEFAULT_LOCK_TIMEOUT / timedelta(milliseconds=1)),
        help="how long a DROP may wait for its lock before the run fails (default 500)",
    )


# --- end pyglue maintain ---


# --- pyglue stats fold|check|verify|refresh ---
def cmd_stats(args: argparse.Namespace, engine: Engine) -> int:
    if args.action == "fold":
        fold = stats.fold_execution_stats(engine, args.batch_size)
        if fold is None:
            print("this server is a standby: nothing to fold (the primary folds)")
            return 0
        print(
            f"{fold.status}: {fold.deltas_folded} deltas folded in {fold.batches} batches"
            f" (run {fold.run_id})"
        )
        return 0
    if args.action == "check":
        check = stats.check_execution_stats(engine, args.day)
        print(
            f"{check.status}: {check.day}: {check.rows_checked} rows checked, "
            f"{check.rows_differing} differing, {check.rows_repaired} repaired (run {check.run_id})"
        )
        return 1 if check.status == "failed" else 0
    if args.action == "verify":
        diffs = stats.verify_execution_stats(engine, args.date_from, args.date_to)
        for diff in diffs:
            print(
                f"{diff.stats_table} user {diff.user_id} {diff.subject_id or '-'} {diff.day}: "
                f"stored {dict(diff.stored)} expected {dict(diff.expected)}"
            )
        print(f"{len(diffs)} differing rows")
        return 1 if diffs else 0
    for refresh in stats.refresh_execution_stats(engine, args.date_from, args.date_to):
        print(
            f"{refresh.stats_table}: {refresh.rows_deleted} rows deleted, "
            f"{refresh.rows_written} written"
        )
    return 0


COMMANDS["stats"] = cmd_stats


def _add_stats_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p_stats = sub.add_parser("stats", help="verify, repair or check the execution-stats rollups")
    actions = p_stats.add_subparsers(dest="action", required=True)
    p_fold = actions.add_parser(
        "fold", parents=[common], help="move the pending stats deltas into the rollups now"
    )
    p_fold.add_argument(
        "--batch-size", type=int, default=stats.DEFAULT_FOLD_BATCH_SIZE, help="deltas per batch"
    )
    p_check = actions.add_parser(
        "check", parents=[common], help="the nightly check: verify one UTC day, repair drift"
    )
    p_check.add_argument(
        "--day", type=date.fromisoformat, help="YYYY-MM-DD (default: yesterday, UTC)"
    )
    for name, text in (
        ("verify", "list rollup rows that differ from the raw rows (exit 1 if any)"),
        ("refresh", "rebuild the rollups of these days from the raw rows that survive"),
    ):
        p_range = actions.add_parser(name, parents=[common], help=text)
        p_range.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True)
        p_range.add_argument("--to", dest="date_to", type=date.fromisoformat, required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyglue", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        metavar="URL",
        help="postgresql:// or postgresql+psycopg:// URL (default: $DATABASE_URL)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", parents=[common], help="upgrade the database to head")
    p_install.add_argument("--revision", default="head", help="target revision (default head)")
    p_install.add_argument(
        "--adopt",
        action="store_true",
        help="stamp an existing platform schema as the baseline first",
    )
    p_install.add_argument(
        "--allow-untrusted-schema",
        action="store_true",
        help="install even when another role can CREATE in a schema on the installer's search_path",
    )
    p_install.add_argument(
        "--downgrade",
        action="store_true",
        help="allow --revision to be below the database's revision (prints what it drops)",
    )
    p_install.add_argument(
        "--drop-platform-tables",
        action="store_true",
        help="with --downgrade --revision base: drop the platform's tables and every row",
    )
    p_install.add_argument(
        "--citus",
        action="store_true",
        help="then distribute the database by user_id on this Citus coordinator",
    )
    p_install.add_argument(
        "--schedule",
        action="store_true",
        help="schedule the maintenance jobs when pg_cron is present",
    )
    sub.add_parser(
        "status",
        parents=[common],
        help="server, revisions, extensions, tables, runs, jobs, top statements",
    )
    _add_bench_parsers(sub)
    add_maintain_parser(sub, common)
    _add_stats_parser(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in SELF_MANAGED:
            return SELF_MANAGED[args.command](args)
        engine = create_engine_for(args.database_url, pool_pre_ping=False)
        try:
            return COMMANDS[args.command](args, engine)
        finally:
            engine.dispose()
    except PyglueError as exc:
        return _fail(exc)
    except DBAPIError as exc:
        # outside the wrappers (Alembic, status): the same table says what the server meant
        return _fail(translate(exc))


def _fail(error: PyglueError) -> int:
    print(f"pyglue: {' '.join(str(error).splitlines())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
