"""The access code at head: pyglue's query helpers and agentdb's SQL functions.

Each piece is looked up when the benchmark starts; a piece that is not
installed (its module, helper or SQL function missing) is reported as not
available and its scenarios are skipped, so the rest still runs.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from pyglue.bench import shapes

# SQL routines the scenarios call: how the report names them (looked up by name).
SQL_ROUTINES = {
    "workflow_document": "agentdb.workflow_document(uuid)",
    "agent_document": "agentdb.agent_document(uuid)",
    "user_dashboard": "agentdb.user_dashboard(uuid, integer)",
    "run_memory_maintenance": "agentdb.run_memory_maintenance(integer, boolean)",
}


def helper(module: str, name: str) -> Callable[..., Any] | None:
    """pyglue.<module>.<name> when that module and name exist, else None."""
    try:
        mod = importlib.import_module(f"pyglue.{module}")
    except ImportError:
        return None
    found = getattr(mod, name, None)
    return found if callable(found) else None


def missing_routines(connection: Connection) -> set[str]:
    """The keys of SQL_ROUTINES that this database does not have."""
    missing = set()
    for key, signature in SQL_ROUTINES.items():
        found = connection.execute(
            text("SELECT to_regproc(:name) IS NOT NULL"), {"name": signature.split("(")[0]}
        ).scalar_one()
        if not found:
            missing.add(key)
    return missing


def need(module: str, name: str) -> Callable[..., Any]:
    """pyglue.<module>.<name>, or LookupError naming it (the scenario then reports it)."""
    found = helper(module, name)
    if found is None:
        raise LookupError(f"pyglue.{module}.{name}")
    return found


def load_workflow(session: Session, workflow_id: uuid.UUID) -> dict[str, Any] | None:
    wf = need("queries", "get_workflow_with_relations")(session, workflow_id)
    return shapes.workflow(wf)


def workflow_document(session: Session, workflow_id: uuid.UUID) -> dict[str, Any] | None:
    """agentdb.workflow_document in one round trip, mapped to the same canonical shape."""
    doc = need("queries", "get_workflow_document")(session, workflow_id)
    return shapes.workflow_from_document(doc)


def load_agent(session: Session, agent_id: uuid.UUID) -> dict[str, Any] | None:
    ag = need("queries", "get_agent_with_relations")(session, agent_id)
    return shapes.agent(ag)


def agent_document(session: Session, agent_id: uuid.UUID) -> dict[str, Any] | None:
    doc = need("queries", "get_agent_document")(session, agent_id)
    return shapes.agent_from_document(doc)


def dashboard_stats(session: Session, user_id: uuid.UUID, days: int) -> dict[str, Any]:
    """pyglue.dashboard.user_dashboard (agentdb.user_dashboard) on the session's connection."""
    row = need("stats", "user_dashboard")(session.connection(), user_id, days)
    return {"total": row.total, "succeeded": row.succeeded, "avg_duration_ms": row.avg_duration_ms}


def dashboard_executions(session: Session, user_id: uuid.UUID, limit: int = 50) -> list[Any]:
    rows = need("queries", "get_dashboard_executions_optimized")(session, user_id, limit=limit)
    return shapes.dashboard_executions(rows)


def workflow_history(
    session: Session,
    user_id: uuid.UUID,
    workflow_id: uuid.UUID,
    *,
    status: str | None = None,
    before: Any = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    rows = need("queries", "get_workflow_execution_history")(
        session, user_id, workflow_id, status=status, limit=limit, before=before
    )
    return shapes.executions(rows)


def agent_history(
    session: Session,
    user_id: uuid.UUID,
    agent_id: uuid.UUID,
    *,
    before: Any = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    rows = need("queries", "get_agent_execution_history")(
        session, user_id, agent_id, limit=limit, before=before
    )
    return shapes.executions(rows)


def stale_running(
    session: Session, *, older_than: timedelta = timedelta(hours=1), limit: int = 100
) -> dict[str, list[dict[str, Any]]]:
    stale = need("queries", "get_stale_running_executions")(
        session, older_than=older_than, limit=limit
    )
    return {
        "workflow": shapes.executions(stale.workflow_executions),
        "agent": shapes.executions(stale.agent_executions),
    }


def agents_by_provider(session: Session, provider: str, limit: int) -> list[str]:
    rows = need("queries", "find_agents")(session, llm_provider=provider, limit=limit)
    return shapes.ids(rows)


def agents_by_config(session: Session, provider: str, limit: int) -> list[str]:
    rows = need("queries", "find_agents")(
        session, config_contains={"llm_provider": provider}, limit=limit
    )
    return shapes.ids(rows)


def workflows_with_node_type(session: Session, node_type: str, limit: int) -> list[str]:
    rows = need("queries", "find_workflows_with_node_type")(session, node_type, limit=limit)
    return shapes.ids(rows)
