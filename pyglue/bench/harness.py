"""Where the benchmarks build their databases: the URL's server, else a throwaway cluster."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.bench import datagen
from pyglue.dburl import libpq_dsn, resolve_url

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Server:
    """A PostgreSQL server on which the benchmarks create databases, all dropped at the end."""

    admin_url: URL
    throwaway: bool = False
    created: list[str] = field(default_factory=list)

    def url(self, name: str) -> URL:
        return self.admin_url.set(database=name)

    def connect(self, name: str | None = None) -> psycopg.Connection[Any]:
        """An autocommit connection to database `name` (default: the URL's own)."""
        url = self.admin_url if name is None else self.url(name)
        return psycopg.connect(libpq_dsn(url), autocommit=True)

    def create_database(self, prefix: str, *, template: str | None = None) -> URL:
        """A new database `<prefix>_<random>`, a file copy of `template` when given."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:  # FILE_COPY: the files, not the whole database through WAL
            query += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(query)
        self.created.append(name)
        return self.url(name)

    def make_durable(self) -> None:
        """fsync and full-page writes back on if throwaway: such a cluster starts without."""
        if not self.throwaway:
            return
        with self.connect() as conn:
            for name in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {name} = on")
            conn.execute("SELECT pg_reload_conf()")

    def drop_databases(self) -> None:
        with self.connect() as conn:
            while self.created:
                name = sql.Identifier(self.created.pop())
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@contextmanager
def server(database_url: str | None) -> Iterator[Server]:
    """The URL's (else $DATABASE_URL's) server, else a throwaway pyglue.testing cluster."""
    if database_url or os.environ.get("DATABASE_URL"):
        srv = Server(resolve_url(database_url))
        try:
            yield srv
        finally:
            srv.drop_databases()
        return
    from pyglue.testing import throwaway_cluster

    with throwaway_cluster() as cluster:
        yield Server(resolve_url(cluster.url()), throwaway=True)


def upgrade(url: URL, revision: str) -> float:
    """Migrate the database at `url` to `revision`; the seconds it took."""
    engine = create_engine(url, poolclass=NullPool)
    started = time.perf_counter()
    try:
        install.upgrade(engine, revision)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def database(srv: Server, prefix: str, revision: str | None) -> URL:
    """A new database on `srv` at `revision` (None: empty)."""
    url = srv.create_database(prefix)
    if revision is not None:
        upgrade(url, revision)
    return url


def vacuum_analyze(url: URL) -> None:
    # measured with fresh statistics and visibility maps, as a DBA would leave the database
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


@dataclass(frozen=True)
class States:
    """The two databases compared, the dataset's ids, and what building them took."""

    baseline_url: URL
    head_url: URL
    dataset: datagen.Dataset
    scale: str
    generate_seconds: float
    upgrade_seconds: float


def prepare(srv: Server, scale: str, *, seed: int, progress: Progress) -> States:
    """Generate the dataset at baseline, copy it, upgrade the copy to head with the migrations."""
    baseline_url = database(srv, "bench_baseline", install.BASELINE)
    progress(f"generating the {scale} dataset at baseline ({baseline_url.database})")
    started = time.perf_counter()
    dataset = datagen.generate(
        baseline_url.render_as_string(hide_password=False), scale, seed=seed, progress=progress
    )  # it ends with VACUUM (ANALYZE)
    generate_seconds = time.perf_counter() - started
    head_url = srv.create_database("bench_head", template=baseline_url.database)
    progress(f"copied it to {head_url.database}; upgrading the copy to head")
    upgrade_seconds = upgrade(head_url, "head")
    vacuum_analyze(head_url)
    progress(f"upgrade to head took {upgrade_seconds:.1f} s")
    return States(baseline_url, head_url, dataset, scale, generate_seconds, upgrade_seconds)
