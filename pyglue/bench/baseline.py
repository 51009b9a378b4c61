"""The platform's access code before agentdb, as the performance plan shows it.

Lazy ORM loads (N+1), the dashboard's live aggregations, OFFSET pages, json
searched through casts, and memory cleanup as three single DELETEs in one
transaction. Each function takes a Session bound to the baseline database.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Text, case, cast, func, text
from sqlalchemy.orm import Session

from pyglue.bench import shapes
from pyglue.bench.baseline_models import (
    Agent,
    AgentExecution,
    AgentMemory,
    Workflow,
    WorkflowExecution,
)


def utcnow() -> datetime:
    """The platform's clock: naive UTC, like its timestamp columns."""
    return datetime.utcnow()  # the platform stores naive UTC


def dashboard_since(days: int) -> datetime:
    """The start of agentdb.user_dashboard's window: UTC midnight `days` days ago."""
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days)


def load_workflow(session: Session, workflow_id: uuid.UUID) -> dict[str, Any] | None:
    """db.query(Workflow).filter(...).first(), then the serializer touches every relation."""
    wf = session.query(Workflow).filter(Workflow.id == workflow_id).first()
    return shapes.workflow(wf)


def load_agent(session: Session, agent_id: uuid.UUID) -> dict[str, Any] | None:
    ag = session.query(Agent).filter(Agent.id == agent_id).first()
    return shapes.agent(ag)


def dashboard_stats(session: Session, user_id: uuid.UUID, since: datetime) -> dict[str, Any]:
    """The plan's dashboard: three live aggregations over agent_executions."""
    window = (AgentExecution.user_id == user_id, AgentExecution.started_at >= since)
    total = session.query(AgentExecution).filter(*window).count()
    succeeded = (
        session.query(AgentExecution).filter(*window, AgentExecution.status == "completed").count()
    )
    avg_duration = session.query(func.avg(AgentExecution.duration_ms)).filter(*window).scalar()
    return {"total": total, "succeeded": succeeded, "avg_duration_ms": _whole_ms(avg_duration)}


def _whole_ms(value: Decimal | None) -> int | None:
    """Milliseconds as the dashboard shows them: rounded half away from zero, like SQL round()."""
    return None if value is None else int(value.quantize(Decimal(1), ROUND_HALF_UP))


def dashboard_executions(session: Session, user_id: uuid.UUID, limit: int = 50) -> list[Any]:
    """The latest executions; the page then reads each one's agent and metrics lazily."""
    rows = (
        session.query(AgentExecution)
        .filter(AgentExecution.user_id == user_id)
        .order_by(AgentExecution.started_at.desc(), AgentExecution.id.desc())
        .limit(limit)
        .all()
    )
    return shapes.dashboard_executions(rows)


def workflow_history(
    session: Session,
    user_id: uuid.UUID,
    workflow_id: uuid.UUID,
    *,
    status: str | None = None,
    page: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """A page of a user's runs of one workflow: ORDER BY ... OFFSET page*limit."""
    query = session.query(WorkflowExecution).filter(
        WorkflowExecution.user_id == user_id, WorkflowExecution.workflow_id == workflow_id
    )
    if status is not None:
        query = query.filter(WorkflowExecution.status == status)
    rows = (
        query.order_by(WorkflowExecution.started_at.desc(), WorkflowExecution.id.desc())
        .offset(page * limit)
        .limit(limit)
        .all()
    )
    return shapes.executions(rows)


def agent_history(session: Session, user_id: uuid.UUID, agent_id: uuid.UUID) -> list[Any]:
    rows = (
        session.query(AgentExecution)
        .filter(AgentExecution.user_id == user_id, AgentExecution.agent_id == agent_id)
        .order_by(AgentExecution.started_at.desc(), AgentExecution.id.desc())
        .limit(50)
        .all()
    )
    return shapes.executions(rows)


def stale_running(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The plan's monitoring pattern: status = 'running' AND started_at < now - 1 hour."""
    cutoff = utcnow() - timedelta(hours=1)
    out: dict[str, list[dict[str, Any]]] = {}
    for key, entity in (("workflow", WorkflowExecution), ("agent", AgentExecution)):
        rows = (
            session.query(entity)
            .filter(entity.status == "running", entity.started_at < cutoff)
            .order_by(entity.started_at)
            .limit(100)
            .all()
        )
        out[key] = shapes.executions(rows)
    return out


# Searches return a page in pyglue.queries' order (name, id): the same rows at both states.


def agents_by_provider_astext(session: Session, provider: str, limit: int) -> list[str]:
    """The plan's own form: Agent.configuration['llm_provider'].astext == provider."""
    query = session.query(Agent).filter(Agent.configuration["llm_provider"].astext == provider)
    return shapes.ids(query.order_by(Agent.name, Agent.id).limit(limit).all())


def agents_by_provider_cast(session: Session, provider: str, limit: int) -> list[str]:
    """configuration::jsonb ->> 'llm_provider': parses every row's json on every search."""
    query = (
        session.query(Agent)
        .filter(text("agents.configuration::jsonb ->> 'llm_provider' = :provider"))
        .params(provider=provider)
    )
    return shapes.ids(query.order_by(Agent.name, Agent.id).limit(limit).all())


def agents_by_provider_like(
    session: Session, provider: str, separator: str, limit: int
) -> list[str]:
    """CAST(configuration AS text) LIKE '%"llm_provider": "x"%'."""
    pattern = f'%"llm_provider"{separator}{json.dumps(provider)}%'
    query = session.query(Agent).filter(cast(Agent.configuration, Text).like(pattern))
    return shapes.ids(query.order_by(Agent.name, Agent.id).limit(limit).all())


def workflows_with_node_type_cast(session: Session, node_type: str, limit: int) -> list[str]:
    """graph_definition::jsonb -> 'nodes' @> '[{"type": x}]': no index can serve it."""
    query = (
        session.query(Workflow)
        .filter(text("workflows.graph_definition::jsonb -> 'nodes' @> CAST(:pattern AS jsonb)"))
        .params(pattern=json.dumps([{"type": node_type}]))
    )
    return shapes.ids(query.order_by(Workflow.name, Workflow.id).limit(limit).all())


def workflows_with_node_type_like(
    session: Session, node_type: str, separator: str, limit: int
) -> list[str]:
    pattern = f'%"type"{separator}{json.dumps(node_type)}%'
    query = session.query(Workflow).filter(cast(Workflow.graph_definition, Text).like(pattern))
    return shapes.ids(query.order_by(Workflow.name, Workflow.id).limit(limit).all())


def cleanup_expired_memories(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """The plan's MemoryCleanupService: consolidation, then three DELETEs, one transaction.

    The shape is the plan's (one UPDATE and three unbatched DELETEs, one
    commit); the rules are agentdb's default policies, so that both states
    remove the same rows. Two of the plan's rules have flaws the policies fix:
    `last_accessed_at < cutoff` never deletes a low long-term memory that was
    never recalled (NULL), and its consolidation demotes importance high to
    medium. `now` defaults to the clock (the benchmark pins it to head's run
    so both states cut at the same instant).
    """
    now = now or utcnow()
    consolidated = (
        session.query(AgentMemory)
        .filter(
            AgentMemory.type == "short_term",
            AgentMemory.access_count >= 3,
            AgentMemory.created_at < now - timedelta(hours=12),
        )
        .update(
            {
                "type": "long_term",
                "importance": case((AgentMemory.importance == "high", "high"), else_="medium"),
            },
            synchronize_session=False,
        )
    )
    stm = (
        session.query(AgentMemory)
        .filter(
            AgentMemory.type == "short_term", AgentMemory.created_at < now - timedelta(hours=24)
        )
        .delete(synchronize_session=False)
    )
    ltm = (
        session.query(AgentMemory)
        .filter(
            AgentMemory.type == "long_term",
            AgentMemory.importance == "low",
            func.coalesce(AgentMemory.last_accessed_at, AgentMemory.created_at)
            < now - timedelta(days=90),
        )
        .delete(synchronize_session=False)
    )
    episodic = (
        session.query(AgentMemory)
        .filter(
            AgentMemory.type == "episodic",
            AgentMemory.created_at < now - timedelta(days=30),
            AgentMemory.importance == "low",
        )
        .delete(synchronize_session=False)
    )
    session.commit()
    return {"consolidated": consolidated, "short_term": stm, "long_term": ltm, "episodic": episodic}
