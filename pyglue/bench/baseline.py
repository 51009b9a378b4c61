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


def _newest(entity: Any, query: Any, limit: int = 50, offset: int | None = None) -> list[Any]:
    """Newest first (started_at, id), as every list of executions pages."""
    query = query.order_by(entity.started_at.desc(), entity.id.desc())
    return list((query if offset is None else query.offset(offset)).limit(limit).all())


def dashboard_executions(session: Session, user_id: uuid.UUID, limit: int = 50) -> list[Any]:
    """The latest executions; the page then reads each one's agent and metrics lazily."""
    query = session.query(AgentExecution).filter(AgentExecution.user_id == user_id)
    return shapes.dashboard_executions(_newest(AgentExecution, query, limit))


def workflow_history(
    session: Session, user_id: uuid.UUID, workflow_id: uuid.UUID, *, status: str | None = None,
    page: int = 0,
) -> list[dict[str, Any]]:  # fmt: skip
    """A page of a user's runs of one workflow: ORDER BY ... OFFSET page*50."""
    entity = WorkflowExecution
    query = session.query(entity).filter(
        entity.user_id == user_id, entity.workflow_id == workflow_id
    )
    if status is not None:
        query = query.filter(entity.status == status)
    return shapes.executions(_newest(entity, query, offset=page * 50))


def agent_history(session: Session, user_id: uuid.UUID, agent_id: uuid.UUID) -> list[Any]:
    entity = AgentExecution
    query = session.query(entity).filter(entity.user_id == user_id, entity.agent_id == agent_id)
    return shapes.executions(_newest(entity, query))


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


def _search(session: Session, entity: Any, condition: Any, limit: int) -> list[str]:
    """A page of matches in pyglue.queries' order (name, id): the same rows at both states."""
    query = session.query(entity).filter(condition).order_by(entity.name, entity.id)
    return shapes.ids(query.limit(limit).all())


def agents_by_provider_astext(session: Session, provider: str, limit: int) -> list[str]:
    """The plan's own form: Agent.configuration['llm_provider'].astext == provider."""
    return _search(session, Agent, Agent.configuration["llm_provider"].astext == provider, limit)


def agents_by_provider_cast(session: Session, provider: str, limit: int) -> list[str]:
    """configuration::jsonb ->> 'llm_provider': parses every row's json on every search."""
    condition = text("agents.configuration::jsonb ->> 'llm_provider' = :provider")
    return _search(session, Agent, condition.bindparams(provider=provider), limit)


def agents_by_provider_like(session: Session, provider: str, sep: str, limit: int) -> list[str]:
    """CAST(configuration AS text) LIKE '%"llm_provider": "x"%'."""
    pattern = f'%"llm_provider"{sep}{json.dumps(provider)}%'
    return _search(session, Agent, cast(Agent.configuration, Text).like(pattern), limit)


def workflows_with_node_type_cast(session: Session, node_type: str, limit: int) -> list[str]:
    """graph_definition::jsonb -> 'nodes' @> '[{"type": x}]': no index can serve it."""
    condition = text("workflows.graph_definition::jsonb -> 'nodes' @> CAST(:pattern AS jsonb)")
    pattern = json.dumps([{"type": node_type}])
    return _search(session, Workflow, condition.bindparams(pattern=pattern), limit)


def workflows_with_node_type_like(
    session: Session, node_type: str, sep: str, limit: int
) -> list[str]:
    pattern = f'%"type"{sep}{json.dumps(node_type)}%'
    return _search(session, Workflow, cast(Workflow.graph_definition, Text).like(pattern), limit)


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
    now, memories = now or utcnow(), session.query(AgentMemory)
    consolidated = memories.filter(
        AgentMemory.type == "short_term",
        AgentMemory.access_count >= 3,
        AgentMemory.created_at < now - timedelta(hours=12),
    ).update(
        {
            "type": "long_term",
            "importance": case((AgentMemory.importance == "high", "high"), else_="medium"),
        },
        synchronize_session=False,
    )
    low = AgentMemory.importance == "low"
    last_used = func.coalesce(AgentMemory.last_accessed_at, AgentMemory.created_at)
    rules = {
        "short_term": [AgentMemory.created_at < now - timedelta(hours=24)],
        "long_term": [low, last_used < now - timedelta(days=90)],
        "episodic": [AgentMemory.created_at < now - timedelta(days=30), low],
    }
    deleted = {
        kind: memories.filter(AgentMemory.type == kind, *rule).delete(synchronize_session=False)
        for kind, rule in rules.items()
    }
    session.commit()
    return {"consolidated": consolidated, **deleted}
