"""The access code at head: pyglue's query helpers and agentdb's functions, in canonical shapes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from pyglue import queries, stats
from pyglue.bench import shapes


def load_workflow(session: Session, workflow_id: uuid.UUID) -> dict[str, Any] | None:
    return shapes.workflow(queries.get_workflow_with_relations(session, workflow_id))


def workflow_document(session: Session, workflow_id: uuid.UUID) -> dict[str, Any] | None:
    """agentdb.workflow_document in one round trip, in the same canonical shape."""
    return shapes.workflow_from_document(queries.get_workflow_document(session, workflow_id))


def load_agent(session: Session, agent_id: uuid.UUID) -> dict[str, Any] | None:
    return shapes.agent(queries.get_agent_with_relations(session, agent_id))


def agent_document(session: Session, agent_id: uuid.UUID) -> dict[str, Any] | None:
    return shapes.agent_from_document(queries.get_agent_document(session, agent_id))


def dashboard_stats(session: Session, user_id: uuid.UUID, days: int) -> dict[str, Any]:
    """agentdb.user_dashboard through pyglue.stats, on the session's connection."""
    row = stats.user_dashboard(session.connection(), user_id, days)
    return {"total": row.total, "succeeded": row.succeeded, "avg_duration_ms": row.avg_duration_ms}


def dashboard_executions(session: Session, user_id: uuid.UUID, limit: int = 50) -> list[Any]:
    rows = queries.get_dashboard_executions_optimized(session, user_id, limit=limit)
    return shapes.dashboard_executions(rows)


def workflow_history(
    session: Session, user_id: uuid.UUID, workflow_id: uuid.UUID, **page: Any
) -> list[dict[str, Any]]:
    """One page (`status`, `before` a keyset cursor) of a user's runs of one workflow."""
    rows = queries.get_workflow_execution_history(session, user_id, workflow_id, limit=50, **page)
    return shapes.executions(rows)


def agent_history(session: Session, user_id: uuid.UUID, agent_id: uuid.UUID) -> list[Any]:
    rows = queries.get_agent_execution_history(session, user_id, agent_id, limit=50)
    return shapes.executions(rows)


def stale_running(session: Session) -> dict[str, list[dict[str, Any]]]:
    stale = queries.get_stale_running_executions(session)
    return {
        "workflow": shapes.executions(stale.workflow_executions),
        "agent": shapes.executions(stale.agent_executions),
    }


def agents_by_provider(session: Session, provider: str, limit: int) -> list[str]:
    return shapes.ids(queries.find_agents(session, llm_provider=provider, limit=limit))


def agents_by_config(session: Session, provider: str, limit: int) -> list[str]:
    """The GIN form: configuration @> '{"llm_provider": ...}'."""
    found = queries.find_agents(session, config_contains={"llm_provider": provider}, limit=limit)
    return shapes.ids(found)


def workflows_with_node_type(session: Session, node_type: str, limit: int) -> list[str]:
    return shapes.ids(queries.find_workflows_with_node_type(session, node_type, limit=limit))
