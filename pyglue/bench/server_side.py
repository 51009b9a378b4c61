"""What PostgreSQL itself reports beside the client's timings: execution time and storage.

The execution time (pg_stat_statements, when preloaded) splits a latency into
what the server spent and what the client spent (driver, ORM, round trips):
the helpers' misses at head are mostly the second kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from pyglue.bench import output

JSON_COLUMNS = {
    "agents": ("configuration",),
    "agent_tools": ("config",),
    "workflows": ("graph_definition",),
    "agent_blocks": ("config", "sub_blocks"),
}


def enable_statements(engine: Engine) -> bool:
    """CREATE EXTENSION pg_stat_statements here; False when the server does not preload it."""
    try:
        with engine.begin() as conn:
            libraries = conn.execute(text("SHOW shared_preload_libraries")).scalar_one()
            if "pg_stat_statements" not in libraries.replace(" ", "").split(","):
                return False
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            return True
    except DBAPIError:
        return False


def reset_statements(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text(output.sql("server_reset")))


def execution_ms(engine: Engine) -> float:
    """Milliseconds this database spent executing statements since the reset (ours excluded)."""
    with engine.connect() as conn:
        return float(conn.execute(text(output.sql("server_execution_ms"))).scalar_one())


@dataclass(frozen=True)
class TableStorage:
    """The json columns at baseline against the same values as jsonb at head."""

    table: str
    column_bytes: int  # sum of pg_column_size over the json/jsonb columns (after compression)
    table_bytes: int  # heap + TOAST
    index_bytes: int


def storage(engine: Engine) -> list[TableStorage]:
    out = []
    with engine.connect() as conn:
        for table, columns in JSON_COLUMNS.items():
            sizes = " + ".join(f"coalesce(sum(pg_column_size({c})), 0)" for c in columns)
            row = conn.execute(
                text(
                    f"SELECT ({sizes})::bigint, pg_table_size('{table}'),"
                    f" pg_indexes_size('{table}') FROM {table}"
                )
            ).one()
            out.append(TableStorage(table, int(row[0]), int(row[1]), int(row[2])))
    return out
