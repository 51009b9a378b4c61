"""EXPLAIN helpers: which indexes a plan uses and which node types it has."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg

_names = itertools.count()


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


class Plan:
    def __init__(self, raw: Any) -> None:
        document = raw if isinstance(raw, list) else json.loads(raw)
        self.root: dict[str, Any] = document[0]["Plan"]

    @property
    def nodes(self) -> list[dict[str, Any]]:
        return list(_walk(self.root))

    @property
    def indexes(self) -> set[str]:
        return {n["Index Name"] for n in self.nodes if "Index Name" in n}

    @property
    def node_types(self) -> set[str]:
        return {n["Node Type"] for n in self.nodes}

    @property
    def relations(self) -> set[str]:
        return {n["Relation Name"] for n in self.nodes if "Relation Name" in n}

    def __repr__(self) -> str:
        return json.dumps(self.root, indent=1)[:4000]


def explain(conn: psycopg.Connection[Any], query: str, params: Sequence[Any] = ()) -> Plan:
    """The custom plan PostgreSQL picks for `query` with these parameter values."""
    row = conn.execute(f"EXPLAIN (FORMAT JSON) {query}", params).fetchone()
    assert row is not None
    return Plan(row[0])


def explain_generic(
    conn: psycopg.Connection[Any], query: str, types: Sequence[str], params: Sequence[Any]
) -> Plan:
    """The generic plan of a prepared `query` ($1, $2 ... placeholders), as prepare mode gets."""
    name = f"generic_{next(_names)}"
    conn.execute("SET plan_cache_mode = force_generic_plan")
    try:
        conn.execute(f"PREPARE {name} ({', '.join(types)}) AS {query}")
        literals = ", ".join(
            conn.execute("SELECT quote_nullable(%s::text)", (p,)).fetchone()[0]  # type: ignore[index]
            for p in params
        )
        row = conn.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name} ({literals})").fetchone()
        assert row is not None
        return Plan(row[0])
    finally:
        conn.execute(f"DEALLOCATE {name}")
        conn.execute("RESET plan_cache_mode")
