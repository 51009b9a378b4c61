"""Execution-stats benchmark: write cost of the stats triggers, and the dashboard at 1M executions.

    python -m pyglue.bench.stats_bench [--server-conninfo "host=... user=..."]

1. Throughput: pgbench clients each insert an execution (running) and then
   complete it (status, duration), two transactions, for --seconds, with the
   stats triggers disabled and enabled, at 1 and 16 concurrent writers, all
   writers on the SAME agent (the worst case: one hot rollup row per table)
   and each writer on its own agent.
2. Dashboard: a database at revision 0004 is filled with --executions agent
   executions (a heaviest user with 200 agents holds 15% of them; metrics for
   every finished run; workflow executions), upgraded to 0007 (the backfill
   is timed), verified exact, then agentdb.user_dashboard(heaviest user, 30)
   is timed from a client (prepared, --samples calls): p50/p95/p99.

Without --server-conninfo a throwaway cluster is started (fsync and
synchronous_commit off: commits are cheap, so the triggers' CPU cost shows
fully; --durable turns them on, as in production). With it, databases
stats_bench_* are created on that server (its own durability settings) and
dropped afterwards.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.testing import PostgresCluster, find_bindir

HEAVY_USER = "00000000-0000-0000-0000-000000000001"
STATS_TRIGGERS = (
    ("agent_executions", "agentdb_stats_insert"),
    ("agent_executions", "agentdb_stats_update"),
    ("workflow_executions", "agentdb_stats_insert"),
    ("workflow_executions", "agentdb_stats_update"),
    ("execution_metrics", "agentdb_stats_insert_delete"),
    ("execution_metrics", "agentdb_stats_update"),
)
# one pgbench "transaction": insert a running execution, then complete it
PGBENCH_SCRIPT = (
    "\\set dur random(1, 5000)\n"
    "\\set a {agent_expr}\n"
    "\\set u {user_expr}\n"
    "INSERT INTO agent_executions (agent_id, user_id, status, started_at)\n"
    "VALUES (('00000000-0000-0000-0000-' || lpad((:a + 100)::text, 12, '0'))::uuid,\n"
    "        ('00000000-0000-0000-0000-' || lpad((:u + 1000)::text, 12, '0'))::uuid,\n"
    "        'running', timezone('utc', now())) RETURNING id AS exec_id \\gset\n"
    "UPDATE agent_executions SET status = 'completed', duration_ms = :dur,\n"
    "       completed_at = timezone('utc', now()) WHERE id = :exec_id;\n"
)
# who the concurrent writers write for: one agent of one user (one hot rollup
# row per table), their own agent of that same user (the user row is shared),
# their own user
SPREADS = (
    ("same agent", "0", "0"),
    ("own agent, same user", ":client_id % 16", "0"),
    ("own user", ":client_id % 16", ":client_id % 16"),
)


class Server:
    """Where the benchmark databases live: a throwaway cluster or an existing server."""

    def __init__(self, conninfo: str | None, *, durable: bool = False) -> None:
        self.cluster: PostgresCluster | None = None
        if conninfo is None:
            self.cluster = PostgresCluster().start()
            conninfo = self.cluster.conninfo()
            if durable:
                # the throwaway cluster starts with fsync off: turn durability back on
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    for name in ("fsync", "synchronous_commit", "full_page_writes"):
                        conn.execute(f"ALTER SYSTEM SET {name} = on")
                    conn.execute("SELECT pg_reload_conf()")
        self.raw = conninfo
        self.base = psycopg.conninfo.conninfo_to_dict(conninfo)

    def conninfo(self, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(self.raw, dbname=dbname)

    def url(self, dbname: str) -> str:
        params = self.base
        user = params.get("user", "postgres")
        return (
            f"postgresql+psycopg://{user}@{params.get('host', '127.0.0.1')}:"
            f"{params.get('port', 5432)}/{dbname}"
        )

    def create(self, dbname: str) -> None:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))  # fmt: skip
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

    def drop(self, dbname: str) -> None:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))  # fmt: skip

    def settings(self) -> str:
        with psycopg.connect(self.conninfo("postgres")) as conn:
            rows = conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'shared_buffers', 'server_version') ORDER BY name"
            ).fetchall()
        return ", ".join(f"{n}={v}" for n, v in rows)

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


@contextmanager
def database(server: Server, dbname: str, revision: str) -> Iterator[str]:
    server.create(dbname)
    engine = create_engine(server.url(dbname), poolclass=NullPool)
    try:
        install.upgrade(engine, revision)
    finally:
        engine.dispose()
    try:
        yield dbname
    finally:
        server.drop(dbname)


def set_stats_triggers(conn: psycopg.Connection[Any], enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    for table, trigger in STATS_TRIGGERS:
        conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")


@dataclass(frozen=True)
class Throughput:
    writers: int
    spread: str
    stats: bool
    pairs_per_second: float


# For comparison only (not shipped): the alternative design, a trigger that
# appends one delta row per write to a table a job would fold into the
# rollups. Writers never wait on each other; but reads would then have to add
# the user's unfolded deltas to the rollup rows to stay exact.
DELTA_PROTOTYPE_SQL = """
CREATE TABLE bench_stats_deltas (
    id bigint GENERATED ALWAYS AS IDENTITY,
    user_id uuid NOT NULL, agent_id uuid NOT NULL, date date NOT NULL,
    execution_count integer NOT NULL, success_count integer NOT NULL,
    failed_count integer NOT NULL, cancelled_count integer NOT NULL,
    duration_count integer NOT NULL, total_duration_ms bigint NOT NULL,
    added_duration integer, removed_duration integer
);
CREATE INDEX ON bench_stats_deltas (user_id, date);
CREATE FUNCTION bench_delta_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.bench_stats_deltas
        VALUES (DEFAULT, NEW.user_id, NEW.agent_id, NEW.started_at::date, 1,
                (NEW.status = 'completed')::int, (NEW.status = 'failed')::int,
                (NEW.status = 'cancelled')::int, (NEW.duration_ms IS NOT NULL)::int,
                coalesce(NEW.duration_ms, 0), NEW.duration_ms, NULL);
    ELSE
        INSERT INTO public.bench_stats_deltas
        VALUES (DEFAULT, NEW.user_id, NEW.agent_id, NEW.started_at::date, 0,
                (NEW.status = 'completed')::int - (OLD.status = 'completed')::int,
                (NEW.status = 'failed')::int - (OLD.status = 'failed')::int,
                (NEW.status = 'cancelled')::int - (OLD.status = 'cancelled')::int,
                (NEW.duration_ms IS NOT NULL)::int - (OLD.duration_ms IS NOT NULL)::int,
                coalesce(NEW.duration_ms, 0) - coalesce(OLD.duration_ms, 0),
                NEW.duration_ms, OLD.duration_ms);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_delta_insert AFTER INSERT ON agent_executions
    FOR EACH ROW EXECUTE FUNCTION bench_delta_trigger();
CREATE TRIGGER bench_delta_update AFTER UPDATE ON agent_executions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms)
    EXECUTE FUNCTION bench_delta_trigger();
ALTER TABLE agent_executions DISABLE TRIGGER bench_delta_insert;
ALTER TABLE agent_executions DISABLE TRIGGER bench_delta_update;
"""


def set_delta_prototype(conn: psycopg.Connection[Any], enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    for trigger in ("bench_delta_insert", "bench_delta_update"):
        conn.execute(f"ALTER TABLE agent_executions {verb} TRIGGER {trigger}")


def run_pgbench(
    server: Server, dbname: str, writers: int, seconds: int, agent_expr: str, user_expr: str
) -> float:
    bindir = find_bindir()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "insert_complete.sql"
        script.write_text(PGBENCH_SCRIPT.format(agent_expr=agent_expr, user_expr=user_expr))
        params = server.base
        out = subprocess.run(
            [str(bindir / "pgbench"), "-n", "-M", "prepared", "-c", str(writers),
             "-j", str(min(writers, 4)), "-T", str(seconds), "-f", str(script),
             "-h", str(params.get("host", "127.0.0.1")), "-p", str(params.get("port", 5432)),
             "-U", str(params.get("user", "postgres")), dbname],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def bench_throughput(
    server: Server, seconds: int, rounds: int, *, delta_prototype: bool = False
) -> list[Throughput]:
    results: list[Throughput] = []
    with (
        database(server, "stats_bench_writes", "0007") as dbname,
        psycopg.connect(server.conninfo(dbname), autocommit=True) as conn,
    ):
        conn.execute(
            "INSERT INTO users (id, email) SELECT "
            "('00000000-0000-0000-0000-' || lpad((g + 1000)::text, 12, '0'))::uuid, "
            "'writer' || g || '@bench.test' FROM generate_series(0, 15) g"
        )
        conn.execute(
            "INSERT INTO agents (id, user_id, name) SELECT "
            "('00000000-0000-0000-0000-' || lpad((g + 100)::text, 12, '0'))::uuid, "
            "('00000000-0000-0000-0000-' || lpad((g + 1000)::text, 12, '0'))::uuid, "
            "'agent ' || g FROM generate_series(0, 15) g"
        )
        if delta_prototype:
            conn.execute(DELTA_PROTOTYPE_SQL)
        set_stats_triggers(conn, False)
        for writers in (1, 16):
            for spread, agent_expr, user_expr in SPREADS:
                samples: dict[bool, list[float]] = {False: [], True: []}
                for _ in range(rounds):
                    for stats in (False, True):
                        conn.execute(
                            "TRUNCATE agent_executions, execution_metrics, "
                            "agent_execution_stats, user_execution_stats"
                            + (", bench_stats_deltas" if delta_prototype else "")
                        )
                        conn.execute("VACUUM ANALYZE agent_executions")
                        conn.execute("CHECKPOINT")
                        if delta_prototype:
                            set_delta_prototype(conn, stats)
                        else:
                            set_stats_triggers(conn, stats)
                        samples[stats].append(
                            run_pgbench(server, dbname, writers, seconds, agent_expr, user_expr)
                        )
                for stats in (False, True):
                    results.append(
                        Throughput(writers, spread, stats, statistics.median(samples[stats]))
                    )
    return results


GENERATE_SQL = """
SELECT setseed(0.42);
INSERT INTO users (id, email)
SELECT ('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'user' || g || '@bench.test'
  FROM generate_series(1, {users}) g;
INSERT INTO agents (user_id, name)
SELECT u.id, 'agent ' || a
  FROM users u
 CROSS JOIN LATERAL generate_series(1, CASE WHEN u.id = '{heavy}' THEN 200 ELSE 2 END) a;
INSERT INTO workflows (user_id, name, graph_definition)
SELECT id, 'workflow', '{{"nodes": [], "edges": []}}' FROM users;
CREATE TEMP TABLE heavy_agents AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, user_id FROM agents WHERE user_id = '{heavy}';
CREATE TEMP TABLE other_agents AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, user_id FROM agents WHERE user_id <> '{heavy}';
CREATE TEMP TABLE picks AS
SELECT g, g <= {heavy_runs} AS heavy, random() AS r, random() AS r2,
       timezone('utc', now()) - random() * interval '365 days' AS started_at
  FROM generate_series(1, {executions}) g;
INSERT INTO agent_executions (agent_id, user_id, status, started_at, completed_at, duration_ms)
SELECT a.id, a.user_id,
       CASE WHEN p.r < 0.80 THEN 'completed' WHEN p.r < 0.90 THEN 'failed'
            WHEN p.r < 0.95 THEN 'cancelled' WHEN p.r < 0.975 THEN 'running' ELSE 'pending' END,
       p.started_at,
       CASE WHEN p.r < 0.95 THEN p.started_at + (p.r2 * 30000)::int * interval '1 ms' END,
       CASE WHEN p.r < 0.95 THEN (p.r2 * 30000)::int END
  FROM picks p
  JOIN heavy_agents a ON p.heavy AND a.k = p.g % 200
UNION ALL
SELECT a.id, a.user_id,
       CASE WHEN p.r < 0.80 THEN 'completed' WHEN p.r < 0.90 THEN 'failed'
            WHEN p.r < 0.95 THEN 'cancelled' WHEN p.r < 0.975 THEN 'running' ELSE 'pending' END,
       p.started_at,
       CASE WHEN p.r < 0.95 THEN p.started_at + (p.r2 * 30000)::int * interval '1 ms' END,
       CASE WHEN p.r < 0.95 THEN (p.r2 * 30000)::int END
  FROM picks p
  JOIN other_agents a ON NOT p.heavy AND a.k = p.g % (SELECT count(*) FROM other_agents);
INSERT INTO execution_metrics (execution_id, llm_call_count, prompt_tokens, completion_tokens,
                               total_tokens, cost)
SELECT id, 1 + duration_ms % 7, duration_ms % 3000, duration_ms % 1000,
       duration_ms % 3000 + duration_ms % 1000, (duration_ms % 4000) / 100000.0
  FROM agent_executions WHERE status IN ('completed', 'failed');
INSERT INTO workflow_executions
    (workflow_id, user_id, status, started_at, completed_at, duration_ms)
SELECT w.id, w.user_id, 'completed', timezone('utc', now()) - random() * interval '365 days',
       NULL, (random() * 60000)::int
  FROM workflows w, generate_series(1, {workflow_runs_per_user});
"""

NAIVE_DASHBOARD = (
    "SELECT (SELECT count(*) FROM agent_executions WHERE user_id = %(u)s), "
    "(SELECT count(*) FROM agent_executions WHERE user_id = %(u)s AND status = 'completed'), "
    "(SELECT avg(duration_ms) FROM agent_executions WHERE user_id = %(u)s)"
)


def timed_calls(
    conn: psycopg.Connection[Any], query: str, params: dict[str, Any], samples: int
) -> list[float]:
    for _ in range(min(50, samples)):
        conn.execute(query, params, prepare=True).fetchall()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        conn.execute(query, params, prepare=True).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def server_side_calls(
    conn: psycopg.Connection[Any], query: str, params: dict[str, Any], samples: int
) -> list[float]:
    """Execution Time of EXPLAIN ANALYZE: the server's share, without client scheduling noise."""
    explain = f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}"
    times = []
    for _ in range(samples):
        row = conn.execute(explain, params).fetchone()
        assert row is not None
        times.append(float(row[0][0]["Execution Time"]))
    return sorted(times)


def pct(sorted_ms: Sequence[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def bench_dashboard(server: Server, executions: int, samples: int) -> list[str]:
    lines: list[str] = []
    with database(server, "stats_bench_1m", "0004") as dbname:
        with psycopg.connect(server.conninfo(dbname), autocommit=True) as conn:
            start = time.perf_counter()
            conn.execute(
                GENERATE_SQL.format(
                    users=1000,
                    heavy=HEAVY_USER,
                    heavy_runs=int(executions * 0.15),
                    executions=executions,
                    workflow_runs_per_user=max(1, executions // 10_000),
                )
            )
            conn.execute("VACUUM ANALYZE")
            lines.append(
                f"generated {executions:,} executions in {time.perf_counter() - start:.1f} s"
            )
        engine = create_engine(server.url(dbname), poolclass=NullPool)
        try:
            start = time.perf_counter()
            install.upgrade(engine, "0007")
            lines.append(
                f"upgrade 0004 -> 0007 (tables, triggers, backfill by month): "
                f"{time.perf_counter() - start:.1f} s"
            )
        finally:
            engine.dispose()
        with psycopg.connect(server.conninfo(dbname), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            start = time.perf_counter()
            diffs = conn.execute(
                "SELECT count(*) FROM agentdb.verify_execution_stats('2000-01-01', '2100-01-01')"
            ).fetchone()
            lines.append(
                f"verify_execution_stats over all history: {diffs[0] if diffs else '?'} "
                f"differing rows in {time.perf_counter() - start:.1f} s"
            )
            heavy = conn.execute(
                "SELECT count(*), count(DISTINCT agent_id) FROM agent_executions "
                "WHERE user_id = %s",
                (HEAVY_USER,),
            ).fetchone()
            assert heavy is not None
            lines.append(
                f"heaviest user: {heavy[0]:,} executions over {heavy[1]} agents; "
                f"{samples} timed calls each (client round trip, prepared)"
            )
            lines.append("")
            lines.append(
                "| call | p50 ms | p95 ms | p99 ms | max ms | server p50 ms | server p95 ms |"
            )
            lines.append("|---|---|---|---|---|---|---|")
            calls = [
                ("user_dashboard(heavy, 30)",
                 "SELECT * FROM agentdb.user_dashboard(%(u)s, 30)", samples),
                ("user_daily_stats(heavy, 30 days)",
                 "SELECT * FROM agentdb.user_daily_stats(%(u)s, "
                 "(timezone('utc', now()))::date - 30, (timezone('utc', now()))::date)", samples),
                ("agent_stats_summary(heavy, 30)",
                 "SELECT * FROM agentdb.agent_stats_summary(%(u)s, 30)", samples),
                ("user_dashboard(heavy, 365)",
                 "SELECT * FROM agentdb.user_dashboard(%(u)s, 365)", samples),
                ("old dashboard: 3 aggregations over agent_executions",
                 NAIVE_DASHBOARD, max(10, samples // 100)),
            ]  # fmt: skip
            for label, query, n in calls:
                times = timed_calls(conn, query, {"u": HEAVY_USER}, n)
                server_ms = server_side_calls(conn, query, {"u": HEAVY_USER}, n)
                lines.append(
                    f"| {label} | {pct(times, 0.50):.3f} | {pct(times, 0.95):.3f} | "
                    f"{pct(times, 0.99):.3f} | {times[-1]:.3f} | {pct(server_ms, 0.50):.3f} | "
                    f"{pct(server_ms, 0.95):.3f} |"
                )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-conninfo", help="use this server instead of a throwaway cluster")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="throwaway cluster with fsync, synchronous_commit and full_page_writes on",
    )
    parser.add_argument("--seconds", type=int, default=10, help="per pgbench run (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="runs per configuration (median)")
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument(
        "--delta-prototype",
        action="store_true",
        help="measure writes with a delta-table trigger (the design not chosen) instead",
    )
    parser.add_argument("--skip-dashboard", action="store_true")
    args = parser.parse_args(argv)
    server = Server(args.server_conninfo, durable=args.durable)
    try:
        print(f"server: {server.settings()}")
        if not args.skip_throughput:
            results = bench_throughput(
                server, args.seconds, args.rounds, delta_prototype=args.delta_prototype
            )
            print()
            machinery = "delta-table PROTOTYPE" if args.delta_prototype else "stats triggers"
            print(
                f"insert-then-complete pairs/s with {machinery} "
                f"(pgbench, {args.seconds} s x {args.rounds}, median)"
            )
            print("| writers | writing for | without stats | with stats | ratio |")
            print("|---|---|---|---|---|")
            by_key = {(r.writers, r.spread, r.stats): r.pairs_per_second for r in results}
            for writers in (1, 16):
                for spread, _, _ in SPREADS:
                    off, on = by_key[(writers, spread, False)], by_key[(writers, spread, True)]
                    print(f"| {writers} | {spread} | {off:,.0f} | {on:,.0f} | {on / off:.2f} |")
        if not args.skip_dashboard:
            print()
            for line in bench_dashboard(server, args.executions, args.samples):
                print(line)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
