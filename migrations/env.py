"""Alembic environment: one transaction per revision, so a revision can leave it
(`autocommit_block`) to build indexes CONCURRENTLY."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from pyglue.dburl import resolve_url
from pyglue.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


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
