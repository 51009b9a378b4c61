"""Storage: the json columns at baseline against the same values as jsonb at head."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import URL

from pyglue.dburl import libpq_dsn

JSON_COLUMNS = {
    "agents": ("configuration",),
    "agent_tools": ("config",),
    "workflows": ("graph_definition",),
    "agent_blocks": ("config", "sub_blocks"),
}


@dataclass(frozen=True)
class TableStorage:
    table: str
    column_bytes: int  # sum of pg_column_size over the json/jsonb columns (after compression)
    table_bytes: int  # heap + TOAST
    index_bytes: int


def measure(url: URL) -> list[TableStorage]:
    out = []
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        for table, columns in JSON_COLUMNS.items():
            sizes = " + ".join(f"coalesce(sum(pg_column_size({c})), 0)" for c in columns)
            row = conn.execute(
                f"SELECT ({sizes})::bigint, pg_table_size('{table}'), pg_indexes_size('{table}')"
                f" FROM {table}"
            ).fetchone()
            assert row is not None
            out.append(TableStorage(table, int(row[0]), int(row[1]), int(row[2])))
    return out
