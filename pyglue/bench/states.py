"""The two databases the benchmark compares: baseline built once, head a copy upgraded.

With a URL the databases are created on that server (the role needs CREATEDB)
and dropped at the end; without one a throwaway cluster is started.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    del message


@dataclass
class Server:
    """A PostgreSQL server on which the benchmark may create and drop databases."""

    admin_url: URL
    created: list[str]

    def url(self, dbname: str) -> URL:
        return self.admin_url.set(database=dbname)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(libpq_dsn(self.admin_url), autocommit=True)

    def create_database(self, name: str, *, template: str | None = None) -> URL:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            # FILE_COPY: a copy of the files, not the whole database through WAL.
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with self._admin() as conn:
            conn.execute(query)
        self.created.append(name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            self.drop_database(name)


@contextmanager
def server(database_url: str | None) -> Iterator[Server]:
    """The server to build on: the URL's (or $DATABASE_URL's), else a throwaway cluster."""
    if database_url or os.environ.get("DATABASE_URL"):
        srv = Server(resolve_url(database_url), [])
        try:
            yield srv
        finally:
            srv.drop_all()
        return
    from pyglue.testing import PostgresCluster

    cluster = PostgresCluster().start()
    try:
        yield Server(resolve_url(cluster.url("postgres")), [])
    finally:
        cluster.stop()


@dataclass(frozen=True)
class States:
    """The two databases, the dataset's ids, and how long the upgrade to head took."""

    baseline_url: URL
    head_url: URL
    dataset: Any
    scale: str
    generate_seconds: float
    upgrade_seconds: float


def _vacuum_analyze(url: URL) -> None:
    # Both states measured with fresh statistics and visibility maps, as a DBA would leave them.
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def prepare(srv: Server, scale: str, *, seed: int = 42, progress: Progress = _quiet) -> States:
    """Build the dataset at baseline, copy it, upgrade the copy to head with the migrations."""
    from pyglue.bench import datagen

    tag = uuid.uuid4().hex[:8]
    baseline_name, head_name = f"bench_{tag}_baseline", f"bench_{tag}_head"
    baseline_url = srv.create_database(baseline_name)
    engine = create_engine(baseline_url, poolclass=NullPool)
    try:
        install.upgrade(engine, install.BASELINE)
    finally:
        engine.dispose()
    progress(f"generating the {scale} dataset at baseline ({baseline_name})")
    started = time.perf_counter()
    dataset = datagen.generate(
        baseline_url.render_as_string(hide_password=False), scale, seed=seed, progress=progress
    )
    generate_seconds = time.perf_counter() - started
    _vacuum_analyze(baseline_url)
    progress(f"copying it ({head_name}) and upgrading the copy to head")
    head_url = srv.create_database(head_name, template=baseline_name)
    engine = create_engine(head_url, poolclass=NullPool)
    try:
        started = time.perf_counter()
        install.upgrade(engine, "head")
        upgrade_seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    _vacuum_analyze(head_url)
    progress(f"upgrade to head took {upgrade_seconds:.1f} s")
    return States(baseline_url, head_url, dataset, scale, generate_seconds, upgrade_seconds)
