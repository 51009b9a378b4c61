"""The platform's request mix, once per state, as sync functions of a Session.

The load test runs them on an AsyncSession through `run_sync`, so the
baseline's lazy loads and pyglue's helpers run unchanged on the async pool.
Each operation is one user action: open the dashboard, page the execution
history, load and run a workflow, a chat turn, a search of agents.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from pyglue.bench import baseline
from pyglue.bench import baseline_models as bm
from pyglue.bench import head as head_access

PROVIDERS = ("openai", "anthropic", "azure", "google", "ollama", "mistral")
DASHBOARD_DAYS = 30


@dataclass(frozen=True)
class PlatformUser:
    """A user the simulation acts as, with some of the workflows and agents they own."""

    id: uuid.UUID
    workflow_ids: tuple[uuid.UUID, ...]
    agent_ids: tuple[uuid.UUID, ...]


# (session, platform user, random source, this simulated user's state between actions)
Operation = Callable[[Session, PlatformUser, random.Random, dict[str, Any]], Any]
SEARCH_PAGE = 20


def _since() -> datetime:
    today = baseline.utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=DASHBOARD_DAYS)  # agentdb.user_dashboard's window


# -- baseline: the platform's code before agentdb ---------------------------------------------


def baseline_dashboard(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    stats = baseline.dashboard_stats(session, user.id, _since())
    return stats, baseline.dashboard_executions(session, user.id, limit=20)


def _history_page(rng: random.Random, user: PlatformUser, state: dict[str, Any]) -> int:
    """Half the time the user opens a workflow's history afresh, else reads the next page."""
    if "page" not in state or rng.random() < 0.5 or state["page"] >= 20 or state.get("end"):
        state.update(page=0, workflow=rng.choice(user.workflow_ids), cursor=None, end=False)
    else:
        state["page"] += 1
    return int(state["page"])


def baseline_history(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    page = _history_page(rng, user, state)
    rows = baseline.workflow_history(session, user.id, state["workflow"], page=page)
    state["end"] = len(rows) < 50
    return rows


def _run_workflow(
    session: Session,
    user: PlatformUser,
    rng: random.Random,
    workflow: dict[str, Any] | None,
    models: Any,
) -> int:
    """Insert the workflow execution and one agent execution per agent block, then complete them.

    Two transactions, as a runner does: start (running), then finish (completed
    with durations and metrics). Written with bulk statements, the same at both
    states: agentdb does not change the write path, only what it triggers.
    """
    if workflow is None:
        return 0
    started = baseline.utcnow()
    run_id, session_id = uuid.uuid4(), f"load-{uuid.uuid4().hex[:12]}"
    session.execute(
        insert(models.WorkflowExecution),
        {
            "id": run_id,
            "workflow_id": uuid.UUID(workflow["id"]),
            "user_id": user.id,
            "session_id": session_id,
            "status": "running",
            "input_data": {"message": "load test"},
            "started_at": started,
        },
    )
    agent_runs = [
        {
            "id": uuid.uuid4(),
            "agent_id": uuid.UUID(block["agent"]["id"]),
            "user_id": user.id,
            "workflow_execution_id": run_id,
            "session_id": session_id,
            "status": "running",
            "input_data": {"step": block["position"]},
            "started_at": started,
        }
        for block in workflow["blocks"]
        if block["agent"] is not None
    ]
    if agent_runs:
        session.execute(insert(models.AgentExecution), agent_runs)
    session.commit()
    finished = baseline.utcnow()
    if agent_runs:
        session.execute(
            update(models.AgentExecution),
            [
                {
                    "id": r["id"],
                    "status": "completed",
                    "completed_at": finished,
                    "duration_ms": rng.randint(50, 5000),
                }
                for r in agent_runs
            ],
        )
        metrics = []
        for r in agent_runs:
            tokens = rng.randint(100, 3000)
            metrics.append(
                {
                    "execution_id": r["id"],
                    "llm_call_count": rng.randint(1, 8),
                    "prompt_tokens": tokens - tokens // 4,
                    "completion_tokens": tokens // 4,
                    "total_tokens": tokens,
                    "cost": Decimal(tokens) * Decimal("0.000002"),
                }
            )
        session.execute(insert(models.ExecutionMetrics), metrics)
    session.execute(
        update(models.WorkflowExecution),
        [
            {
                "id": run_id,
                "status": "completed",
                "completed_at": finished,
                "duration_ms": int((finished - started).total_seconds() * 1000),
            }
        ],
    )
    session.commit()
    return len(agent_runs)


def baseline_run_workflow(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    workflow = baseline.load_workflow(session, rng.choice(user.workflow_ids))
    return _run_workflow(session, user, rng, workflow, bm)


def _memories(models: Any, agent_id: uuid.UUID, session_id: str, turn: int) -> list[Any]:
    return [
        models.AgentMemory(
            agent_id=agent_id,
            session_id=session_id,
            type="short_term",
            importance="medium",
            content=f"turn {turn} {who}: the user asked about the quarterly report",
        )
        for who in ("user", "assistant")
    ]


def baseline_chat(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    agent_id = rng.choice(user.agent_ids)
    session_id = f"chat-{user.id.hex[:8]}-{rng.randint(1, 20)}"
    session.add_all(_memories(bm, agent_id, session_id, rng.randint(1, 1000)))
    session.flush()
    recalled = (
        session.query(bm.AgentMemory)
        .filter(bm.AgentMemory.agent_id == agent_id)
        .order_by(bm.AgentMemory.created_at.desc())
        .limit(20)
        .all()
    )
    now = baseline.utcnow()
    for memory in recalled:  # the platform bumps each memory it read, one UPDATE per row
        memory.access_count += 1
        memory.last_accessed_at = now
    session.commit()
    return len(recalled)


def baseline_search(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    return baseline.agents_by_provider_astext(session, rng.choice(PROVIDERS), SEARCH_PAGE)


# -- head: pyglue's helpers and agentdb's functions --------------------------------------------


def head_dashboard(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    stats = head_access.dashboard_stats(session, user.id, DASHBOARD_DAYS)
    return stats, head_access.dashboard_executions(session, user.id, limit=20)


def head_history(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    history = head_access.need("queries", "get_workflow_execution_history")
    cursor_of = head_access.need("queries", "cursor_of")
    _history_page(rng, user, state)
    rows = history(session, user.id, state["workflow"], limit=50, before=state["cursor"])
    state["end"] = len(rows) < 50
    state["cursor"] = cursor_of(rows[-1]) if rows else None
    return rows


def head_run_workflow(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    from pyglue import models

    # the hot path reads the workflow as one document (agentdb.workflow_document)
    workflow = head_access.workflow_document(session, rng.choice(user.workflow_ids))
    return _run_workflow(session, user, rng, workflow, models)


def head_chat(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    from pyglue import models

    recall = head_access.need("memory", "recall")
    agent_id = rng.choice(user.agent_ids)
    session_id = f"chat-{user.id.hex[:8]}-{rng.randint(1, 20)}"
    session.add_all(_memories(models, agent_id, session_id, rng.randint(1, 1000)))
    session.flush()
    recalled = recall(session, agent_id, limit=20)
    session.commit()
    return len(recalled)


def head_search(
    session: Session, user: PlatformUser, rng: random.Random, state: dict[str, Any]
) -> Any:
    return head_access.agents_by_provider(session, rng.choice(PROVIDERS), SEARCH_PAGE)


@dataclass(frozen=True)
class MixEntry:
    """How often users do an operation (relative weight), and its code in each state."""

    weight: int
    baseline: Operation
    head: Operation


MIX: dict[str, MixEntry] = {
    "dashboard": MixEntry(20, baseline_dashboard, head_dashboard),
    "history": MixEntry(25, baseline_history, head_history),
    "run_workflow": MixEntry(20, baseline_run_workflow, head_run_workflow),
    "chat_turn": MixEntry(25, baseline_chat, head_chat),
    "search_agents": MixEntry(10, baseline_search, head_search),
}

# what each head operation needs: pyglue helpers and agentdb routines
HEAD_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dashboard": (
        ("stats.user_dashboard", "queries.get_dashboard_executions_optimized"),
        ("user_dashboard",),
    ),
    "history": (("queries.get_workflow_execution_history", "queries.cursor_of"), ()),
    "run_workflow": (("queries.get_workflow_document",), ("workflow_document",)),
    "chat_turn": (("memory.recall",), ()),
    "search_agents": (("queries.find_agents",), ()),
}


def population(session: Session, size: int, heaviest: uuid.UUID | None) -> list[PlatformUser]:
    """Up to `size` users who own a workflow with an agent block and an agent; heaviest first."""
    rows = session.execute(
        text(
            "SELECT u.id,"
            " ARRAY(SELECT DISTINCT b.workflow_id FROM workflows w JOIN agent_blocks b"
            "       ON b.workflow_id = w.id AND b.agent_id IS NOT NULL"
            "       WHERE w.user_id = u.id ORDER BY b.workflow_id LIMIT 10),"
            " ARRAY(SELECT a.id FROM agents a WHERE a.user_id = u.id ORDER BY a.id LIMIT 10)"
            " FROM users u ORDER BY (u.id = :heaviest) DESC, md5(u.id::text) LIMIT :size"
        ),
        {"heaviest": heaviest, "size": size * 2},
    ).all()
    users = [
        PlatformUser(uid, tuple(workflows), tuple(agents))
        for uid, workflows, agents in rows
        if workflows and agents
    ]
    return users[:size]
