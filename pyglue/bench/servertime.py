"""Server-side execution time per operation, from pg_stat_statements when it is loaded.

It splits a latency into what PostgreSQL spent executing the statements and
what the client spent (driver, ORM, round trips): the helpers' misses at
head are mostly the second kind.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

_OWN = "query NOT LIKE '%pg_stat_statements%'"
_DB = "(SELECT oid FROM pg_database WHERE datname = current_database())"


def enable(engine: Engine) -> bool:
    """CREATE EXTENSION pg_stat_statements in this database; False when the server lacks it."""
    try:
        with engine.connect() as conn:
            loaded = conn.execute(
                text(
                    "SELECT 'pg_stat_statements' = ANY(string_to_array("
                    "replace(current_setting('shared_preload_libraries'), ' ', ''), ','))"
                )
            ).scalar_one()
            if not loaded:
                return False
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            conn.commit()
            return True
    except DBAPIError:
        return False


def reset(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text(f"SELECT pg_stat_statements_reset(0, {_DB}, 0)"))


def total_exec_ms(engine: Engine) -> float:
    """Milliseconds this database spent executing statements since `reset` (ours excluded)."""
    with engine.connect() as conn:
        value = conn.execute(
            text(
                "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements"
                f" WHERE dbid = {_DB} AND {_OWN}"
            )
        ).scalar_one()
    return float(value)
