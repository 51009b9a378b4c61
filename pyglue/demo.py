"""`make demo`: baseline, a small generated dataset, the upgrade to head, `pyglue status`.

On a throwaway PostgreSQL unless DATABASE_URL is set; on DATABASE_URL's
server it creates (and leaves) a database named `agentdb_demo`.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack

import psycopg
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from pyglue import cli, install
from pyglue.bench.datagen import generate
from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.errors import PyglueError
from pyglue.testing import PostgresCluster

DEMO_DATABASE = "agentdb_demo"


def _demo_database(stack: ExitStack) -> str:
    """A fresh database: on DATABASE_URL's server if set, else on a throwaway cluster."""
    if os.environ.get("DATABASE_URL"):
        server = resolve_url(None)
        with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(DEMO_DATABASE)
                )
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))
        return server.set(database=DEMO_DATABASE).render_as_string(hide_password=False)
    print("starting a throwaway PostgreSQL ...", flush=True)
    cluster = PostgresCluster().start()
    stack.callback(cluster.stop)
    return cluster.create_database(DEMO_DATABASE)


def run() -> int:
    with ExitStack() as stack:
        url = _demo_database(stack)
        engine = create_engine(url, poolclass=NullPool)
        print("installing the baseline (the platform as it runs today) ...", flush=True)
        install.upgrade(engine, install.BASELINE)
        print("generating the small dataset ...", flush=True)
        generate(url, "small", progress=lambda line: print(f"  {line}", flush=True))
        started = time.monotonic()
        install.upgrade(engine, "head")
        print(f"upgraded to head in {time.monotonic() - started:.1f} s\n", flush=True)
        engine.dispose()
        return cli.main(["status", "--database-url", url])
    raise AssertionError("unreachable")


def main() -> int:
    try:
        return run()
    except PyglueError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
