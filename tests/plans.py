"""EXPLAIN the statements a query helper really sends: default and generic plans."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from psycopg import sql
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

Captured = list[tuple[str, dict[str, Any]]]


def capture(engine: Engine, call: Callable[[Session], object]) -> Captured:
    """The statements (with parameters) a helper sends."""
    got: Captured = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        got.append((statement, dict(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            call(session)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return got


def plan_nodes(
    engine: Engine, statement: str, parameters: dict[str, Any], *, generic: bool
) -> list[dict[str, Any]]:
    """The plan's nodes, depth first: the default plan, or the generic plan of the statement."""
    with engine.connect() as conn:
        if not generic:
            [[plan]] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        else:
            raw = conn.connection.driver_connection
            names: list[str] = []

            def placeholder(match: re.Match[str]) -> str:
                if match.group(1) not in names:
                    names.append(match.group(1))
                return f"${names.index(match.group(1)) + 1}"

            numbered = re.sub(r"%\((\w+)\)s", placeholder, statement).replace("%%", "%")
            arguments = sql.SQL(", ").join(sql.Literal(parameters[n]) for n in names)
            # LOCAL: the rollback below resets it before the connection goes back to the pool
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            conn.exec_driver_sql("PREPARE explained AS " + numbered)
            query = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE explained ({})").format(arguments)
            [[plan]] = conn.exec_driver_sql(query.as_string(raw))
            conn.exec_driver_sql("DEALLOCATE explained")
        conn.rollback()

    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    return list(walk(plan[0]["Plan"]))


def indexes(nodes: list[dict[str, Any]]) -> set[str]:
    """The names of the indexes a plan reads."""
    return {n["Index Name"] for n in nodes if "Index Name" in n}


def sorts(nodes: list[dict[str, Any]]) -> list[str]:
    """The plan's Sort and Incremental Sort nodes."""
    return [n["Node Type"] for n in nodes if "Sort" in n["Node Type"]]


def history_page_scan(nodes: list[dict[str, Any]], index: str) -> dict[str, Any]:
    """Check a history page's plan and return its index scan.

    The page's keys are read from `index` alone, in index order (an Index Only
    Scan, backwards: newest first) and without a filter; the rows are then
    fetched by primary key; nothing is sorted.
    """
    assert sorts(nodes) == [], nodes
    [scan] = [n for n in nodes if n.get("Index Name") == index]
    assert scan["Node Type"] == "Index Only Scan", scan
    assert scan["Scan Direction"] == "Backward", scan
    assert "Filter" not in scan, scan
    assert indexes(nodes) - {index} <= {"pk_workflow_executions", "pk_agent_executions"}, nodes
    return scan
