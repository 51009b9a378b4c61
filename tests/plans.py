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
        roots = {name: (root, empty) for name, root, empty in conn.exec_driver_sql(ROOTS).all()}

    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    nodes = []
    for node in walk(plan[0]["Plan"]):
        if roots.get(node.get("Relation Name"), ("", False))[1]:
            continue  # an empty month: any index, or none, costs nothing there
        for field in ("Index Name", "Relation Name"):
            if node.get(field) in roots:
                node["Partition " + field] = node[field]
                node[field] = roots[node[field]][0]
        nodes.append(node)
    return nodes


# A partition's table or index, the partitioned one at its root, and
# whether the partition (a table) is empty: the execution history is
# partitioned by month (0016), so a plan names, say,
# agent_executions_p2026_12_user_id_started_at_id_idx where the tests mean
# ix_agent_exec_user_started (the original is kept as "Partition Index
# Name"). The scans of empty months (the months made ahead) are left out of
# the nodes: on an empty partition the planner's choice is a tie, and costs
# nothing; once a month has rows and is analyzed it plans as the others do.
ROOTS = """
    SELECT c.relname, r.relname,
           c.relkind IN ('r', 'p') AND (xpath('/row/e/text()', query_to_xml(
               'SELECT NOT EXISTS (SELECT FROM ' || c.oid::regclass::text || ') AS e',
               false, true, '')))[1]::text::boolean
      FROM pg_class c
      JOIN pg_class r ON r.oid = pg_partition_root(c.oid)
     WHERE c.relispartition
"""


def planned_tables(engine: Engine, statement: str, parameters: dict[str, Any]) -> set[str]:
    """Every table (partitions by their own name) in the default plan, empty ones included."""
    with engine.connect() as conn:
        [[plan]] = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
    found, nodes = set(), [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        if "Relation Name" in node:
            found.add(node["Relation Name"])
    return found


def subplans_removed(nodes: list[dict[str, Any]]) -> int:
    """Partitions pruned when the plan ran (generic plans prune at execution)."""
    return sum(int(n.get("Subplans Removed", 0)) for n in nodes)


def indexes(nodes: list[dict[str, Any]]) -> set[str]:
    """The names of the indexes a plan reads."""
    return {n["Index Name"] for n in nodes if "Index Name" in n}


def sorts(nodes: list[dict[str, Any]]) -> list[str]:
    """The plan's Sort and Incremental Sort nodes."""
    return [n["Node Type"] for n in nodes if "Sort" in n["Node Type"]]


def small_sorts_only(nodes: list[dict[str, Any]], page: int = 50) -> bool:
    """Nothing sorted but about a page (two at most), never the history.

    The months of a partitioned history are merged in order (Merge Append);
    where the planner expects about a page of rows in all, it may sort them
    instead.
    """
    return all(n["Plan Rows"] <= 2 * page for n in nodes if "Sort" in n["Node Type"])


def history_page_scan(nodes: list[dict[str, Any]], index: str, page: int = 50) -> dict[str, Any]:
    """Check a history page's plan and return its index scan.

    The page's keys are read from `index` alone, in index order (an Index Only
    Scan, backwards: newest first) and without a filter; the rows are then
    fetched by their key; nothing more than two pages is sorted.
    """
    assert small_sorts_only(nodes, page), nodes
    scans = [n for n in nodes if n.get("Index Name") == index]
    assert scans, nodes
    for scan in scans:  # one per month the plan did not prune
        assert scan["Node Type"] == "Index Only Scan", scan
        assert scan["Scan Direction"] == "Backward", scan
        assert "Filter" not in scan, scan
    # rows by their key: the primary key (id, started_at), or started_at's own
    # index, whose one or two entries of that instant are checked for the id
    fetches = {"pk_workflow_executions", "pk_agent_executions"}
    fetches |= {"ix_workflow_executions_started_at", "ix_agent_executions_started_at"}
    assert indexes(nodes) - {index} <= fetches, nodes
    return scans[0]
