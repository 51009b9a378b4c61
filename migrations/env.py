"""Alembic environment: one transaction per revision, so a revision can leave it
(`autocommit_block`) to build indexes CONCURRENTLY.

Revisions run with search_path = pg_catalog, pg_temp and name the platform's
objects with their schema: an operator or function that a less-privileged
role created in public (an exact-match `public.=(varchar, varchar)`) can bind
to nothing the installer builds, so it never runs as the installer or as
agentdb's SECURITY DEFINER routines.
"""

from __future__ import annotations

import contextlib

from alembic import context
from sqlalchemy import Connection, create_engine, pool
from sqlalchemy.exc import DBAPIError

from pyglue.dburl import resolve_url
from pyglue.migration_ops import MIGRATION_SEARCH_PATH, PLATFORM_SCHEMA
from pyglue.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    # session-level, so it holds in every revision's transaction and in the
    # autocommit blocks that build indexes concurrently; reset at the end, as
    # the connection may go back to the caller's pool
    connection.exec_driver_sql(f"SET search_path = {MIGRATION_SEARCH_PATH}")
    connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
            compare_type=True,
            version_table_schema=PLATFORM_SCHEMA,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        with contextlib.suppress(DBAPIError):
            connection.rollback()
            connection.exec_driver_sql("RESET search_path")
            connection.commit()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = resolve_url(config.get_main_option("sqlalchemy.url") or None)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure_and_run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("agentdb migrations run online only (they build indexes CONCURRENTLY)")
run_migrations_online()
