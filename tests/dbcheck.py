"""Helpers for tests that compare databases: row checksums and schema dumps."""

from __future__ import annotations

import re
import subprocess

import psycopg

from pyglue.bench.datagen import TABLES
from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.testing import find_bindir

# a column a revision derives from other rows (0016: a metrics row carries
# its execution's started_at; 0020: a child carries its parent's user_id),
# left out so that checksums compare across it
DERIVED = {("execution_metrics", "started_at")} | {
    (table, "user_id")
    for table in ("agent_tools", "agent_knowledgebases", "agent_memories", "agent_blocks",
                  "workflow_edges", "execution_metrics")
}  # fmt: skip
# partitions of the execution history (0016): which months exist depends on
# the day and on the data a database had when it was partitioned
PARTITION = re.compile(
    r"\b(workflow_executions|agent_executions|execution_metrics)_(p\d{4}_\d{2}|default|legacy)"
    r"|_legacy\b"
)


def table_checksums(url: str, tables: tuple[str, ...] = TABLES) -> dict[str, tuple[int, str]]:
    """Per table: row count and an md5 over every row, json values compared as jsonb."""
    result: dict[str, tuple[int, str]] = {}
    with psycopg.connect(libpq_dsn(resolve_url(url))) as conn:
        for table in tables:
            columns = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = %s ORDER BY column_name",
                (table,),
            ).fetchall()
            keys = conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
                " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
                " WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attname",
                (table,),
            ).fetchall()
            values = ", ".join(
                f"{name}::jsonb" if kind in ("json", "jsonb") else name
                for name, kind in columns
                if (table, name) not in DERIVED
            )
            order = ", ".join(name for (name,) in keys if (table, name) not in DERIVED)
            row = conn.execute(
                f"SELECT count(*), coalesce(md5(string_agg(md5(row({values})::text), '' "
                f"ORDER BY {order})), '') FROM {table}"
            ).fetchone()
            assert row is not None
            result[table] = (int(row[0]), str(row[1]))
    return result


def schema_dump(url: str, *, partitions: bool = True) -> str:
    """pg_dump --schema-only, without the lines that differ between two dumps of one schema.

    partitions=False leaves out every statement about a partition of the
    execution history, for comparing databases partitioned on other days or
    from other data.
    """
    dsn = libpq_dsn(resolve_url(url))
    out = subprocess.run(
        [str(find_bindir() / "pg_dump"), "--schema-only", "--no-owner", dsn],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if not partitions:
        out = "\n\n".join(
            statement for statement in out.split("\n\n") if not PARTITION.search(statement)
        )
    return "\n".join(
        line
        for line in out.splitlines()
        if line.strip() and not line.startswith(("--", "\\restrict", "\\unrestrict"))
    )
