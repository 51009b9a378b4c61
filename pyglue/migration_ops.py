"""What migrations call: run their frozen, pinned SQL files; build indexes concurrently."""

from __future__ import annotations

from collections.abc import Mapping

from alembic import op

from pyglue.errors import ConfigurationError
from pyglue.sqlfiles import read_frozen

INDEX_LOCK_TIMEOUT = "5s"
# migrations/env.py runs every revision under this search_path: nothing
# another role can create (in public, say) is visible, so every operator and
# function resolves in pg_catalog and the platform's objects are named
# with their schema.
MIGRATION_SEARCH_PATH = "pg_catalog, pg_temp"
PLATFORM_SCHEMA = "public"
# Every script a migration runs starts with this, so that DDL on a busy table
# gives up instead of queueing the platform's reads and writes behind it.
SCRIPT_PROLOGUE = "SET LOCAL lock_timeout = '10s';\n"


def execute_script(script: str) -> None:
    """Run a multi-statement SQL script on the migration's connection, verbatim.

    The raw psycopg connection takes the text as is: no bind-parameter parsing
    of the `:` and `%` that PL/pgSQL bodies are full of.
    """
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    driver_connection.execute(script)


def run_frozen(revision: str, pins: Mapping[str, str]) -> None:
    """Run, in order, each `migrations/versions/<revision>/<name>` after checking its pin."""
    for name, pin in pins.items():
        execute_script(SCRIPT_PROLOGUE + read_frozen(revision, name, pin))


def create_index_concurrently(name: str, definition: str) -> None:
    """CREATE INDEX CONCURRENTLY outside the migration transaction, under a lock_timeout.

    `definition` names its table with its schema (`ON public.agents ...`); the
    index is created beside it.

    A failed concurrent build leaves an INVALID index behind; it is dropped and
    built again, and a valid index of the same name is left alone.
    """
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        state = bind.exec_driver_sql(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %(name)s AND c.relnamespace = %(schema)s::regnamespace",
            {"name": name, "schema": PLATFORM_SCHEMA},
        ).scalar()
        if state is True:
            return
        if state is False:
            bind.exec_driver_sql(f'DROP INDEX CONCURRENTLY IF EXISTS {PLATFORM_SCHEMA}."{name}"')
        bind.exec_driver_sql(f"SET lock_timeout = '{INDEX_LOCK_TIMEOUT}'")
        try:
            bind.exec_driver_sql(f'CREATE INDEX CONCURRENTLY "{name}" {definition}')
        finally:
            bind.exec_driver_sql("RESET lock_timeout")


def drop_index_concurrently(name: str) -> None:
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        bind.exec_driver_sql(f"SET lock_timeout = '{INDEX_LOCK_TIMEOUT}'")
        try:
            bind.exec_driver_sql(f'DROP INDEX CONCURRENTLY IF EXISTS {PLATFORM_SCHEMA}."{name}"')
        finally:
            bind.exec_driver_sql("RESET lock_timeout")


# Preconditions: a revision checks the data it is about to read or convert
# before it changes anything, and refuses in one line (table, column, rows,
# the fix in the README's "Odd data" section) instead of failing halfway or
# running without end.
ODD_DATA = "see 'Odd data' in the README for the fix, then run pyglue install again"


def require_finite_timestamps(columns: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse when a `public.<table>.<column>` holds 'infinity' or '-infinity'."""
    bind = op.get_bind()
    for table, names in columns.items():
        for column in names:
            rows = bind.exec_driver_sql(
                f"SELECT count(*) FROM {PLATFORM_SCHEMA}.{table} WHERE NOT isfinite({column})"
            ).scalar_one()
            if rows:
                raise ConfigurationError(
                    f"{PLATFORM_SCHEMA}.{table}.{column} has {rows} rows with a non-finite "
                    f"timestamp (infinity or -infinity), which no day can hold: {ODD_DATA}"
                )


# Does a json value convert to jsonb? jsonb cannot hold \u0000 nor a lone
# surrogate escape; only values with a \u escape are tried, one by one.
JSONB_CHECK = """
CREATE OR REPLACE FUNCTION pg_temp.agentdb_converts_to_jsonb(value json) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM value::jsonb;
    RETURN true;
EXCEPTION WHEN untranslatable_character OR invalid_text_representation
               OR invalid_parameter_value OR character_not_in_repertoire THEN
    RETURN false;
END
$$
"""


def require_jsonb_convertible(columns: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse when a json `public.<table>.<column>` holds a value jsonb cannot hold."""
    bind = op.get_bind()
    bind.exec_driver_sql(JSONB_CHECK)
    for table, names in columns.items():
        for column in names:
            rows = bind.exec_driver_sql(
                f"SELECT count(*) FROM {PLATFORM_SCHEMA}.{table}"
                f" WHERE strpos({column}::text, '\\u') > 0"
                f" AND NOT pg_temp.agentdb_converts_to_jsonb({column})"
            ).scalar_one()
            if rows:
                raise ConfigurationError(
                    f"{PLATFORM_SCHEMA}.{table}.{column} has {rows} rows whose json jsonb cannot "
                    f"hold (\\u0000, or a lone surrogate escape): {ODD_DATA}"
                )
