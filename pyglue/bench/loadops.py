"""The platform's request mix, once per state, as sync functions of a Session.

The load test runs them on an AsyncSession through `run_sync`, so the baseline's
lazy loads and pyglue's helpers run unchanged on the async pool.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from pyglue import memory, models, queries
from pyglue.bench import baseline, head, output
from pyglue.bench import baseline_models as bm

PROVIDERS = ("openai", "anthropic", "azure", "google", "ollama", "mistral")
DASHBOARD_DAYS, SEARCH_PAGE, HISTORY_PAGE = 30, 20, 50


@dataclass(frozen=True)
class PlatformUser:
    """A user the simulation acts as, with some of the workflows and agents they own."""

    id: uuid.UUID
    workflow_ids: tuple[uuid.UUID, ...]
    agent_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Turn:
    """One action: its session, who acts, their dice, and what they remember between actions."""

    session: Session
    user: PlatformUser
    rng: random.Random
    state: dict[str, Any]


Operation = Callable[[Turn], Any]


def _history_page(t: Turn) -> int:
    """Half the time the user opens a workflow's history afresh, else reads the next page."""
    state = t.state
    if "page" not in state or t.rng.random() < 0.5 or state["page"] >= 20 or state["end"]:
        state.update(page=0, workflow=t.rng.choice(t.user.workflow_ids), cursor=None, end=False)
    else:
        state["page"] += 1
    return int(state["page"])


def _run_workflow(t: Turn, workflow: dict[str, Any] | None, schema: Any) -> int:
    """Insert the workflow execution and one agent execution per agent block, then complete them.

    Two transactions, as a runner does: start (running), then finish (completed
    with durations and metrics). Bulk statements, the same at both states:
    agentdb does not change the write path, only what it triggers.
    """
    if workflow is None:
        return 0
    started, run_id = baseline.utcnow(), uuid.uuid4()
    run: dict[str, Any] = {"user_id": t.user.id, "status": "running", "started_at": started}
    run["session_id"] = f"load-{run_id.hex[:12]}"
    agent_runs = [
        {**run, "id": uuid.uuid4(), "agent_id": uuid.UUID(block["agent"]["id"]),
         "workflow_execution_id": run_id, "input_data": {"step": block["position"]}}
        for block in workflow["blocks"] if block["agent"] is not None
    ]  # fmt: skip
    run.update(id=run_id, workflow_id=uuid.UUID(workflow["id"]))
    run["input_data"] = {"message": "load test"}
    for table, rows in ((schema.WorkflowExecution, [run]), (schema.AgentExecution, agent_runs)):
        if rows:
            t.session.execute(insert(table), rows)
    t.session.commit()
    finished, tokens = baseline.utcnow(), [t.rng.randint(100, 3000) for _ in agent_runs]
    done = {"status": "completed", "completed_at": finished}
    duration_ms = int((finished - started).total_seconds() * 1000)
    if agent_runs:
        completed = [
            {**done, "id": r["id"], "started_at": started, "duration_ms": t.rng.randint(50, 5000)}
            for r in agent_runs
        ]
        t.session.execute(update(schema.AgentExecution), completed)
        metrics = [
            {"execution_id": r["id"], "llm_call_count": t.rng.randint(1, 8), "total_tokens": n,
             "prompt_tokens": n - n // 4, "completion_tokens": n // 4,
             "cost": Decimal(n) * Decimal("0.000002"),
             # at head a metrics row carries its run's started_at (0016)
             **({"started_at": started} if "started_at" in schema.ExecutionMetrics.__table__.c
                else {})}
            for r, n in zip(agent_runs, tokens, strict=True)
        ]  # fmt: skip
        t.session.execute(insert(schema.ExecutionMetrics), metrics)
    t.session.execute(
        update(schema.WorkflowExecution),
        [{**done, "id": run_id, "started_at": started, "duration_ms": duration_ms}],
    )
    t.session.commit()
    return len(agent_runs)


def _chat_memories(t: Turn, schema: Any) -> uuid.UUID:
    """Write a chat turn's two short-term memories; the agent they belong to."""
    agent_id = t.rng.choice(t.user.agent_ids)
    session_id, turn = f"chat-{t.user.id.hex[:8]}-{t.rng.randint(1, 20)}", t.rng.randint(1, 1000)
    t.session.add_all(
        schema.AgentMemory(
            agent_id=agent_id, session_id=session_id, type="short_term", importance="medium",
            content=f"turn {turn} {who}: the user asked about the quarterly report",
        )
        for who in ("user", "assistant")
    )  # fmt: skip
    t.session.flush()
    return agent_id


# -- baseline: the platform's code before agentdb ---------------------------------------------


def baseline_dashboard(t: Turn) -> Any:
    stats = baseline.dashboard_stats(t.session, t.user.id, baseline.dashboard_since(DASHBOARD_DAYS))
    return stats, baseline.dashboard_executions(t.session, t.user.id, limit=20)


def baseline_history(t: Turn) -> Any:
    page = _history_page(t)
    rows = baseline.workflow_history(t.session, t.user.id, t.state["workflow"], page=page)
    t.state["end"] = len(rows) < HISTORY_PAGE
    return rows


def baseline_chat(t: Turn) -> Any:
    agent_id = _chat_memories(t, bm)
    recalled = (
        t.session.query(bm.AgentMemory)
        .filter(bm.AgentMemory.agent_id == agent_id)
        .order_by(bm.AgentMemory.created_at.desc())
        .limit(20)
        .all()
    )
    now = baseline.utcnow()
    for memory_row in recalled:  # the platform bumps each memory it read, one UPDATE per row
        memory_row.access_count += 1
        memory_row.last_accessed_at = now
    t.session.commit()
    return len(recalled)


# -- head: pyglue's helpers and agentdb's functions --------------------------------------------


def head_dashboard(t: Turn) -> Any:
    stats = head.dashboard_stats(t.session, t.user.id, DASHBOARD_DAYS)
    return stats, head.dashboard_executions(t.session, t.user.id, limit=20)


def head_history(t: Turn) -> Any:
    _history_page(t)
    rows = queries.get_workflow_execution_history(
        t.session, t.user.id, t.state["workflow"], limit=HISTORY_PAGE, before=t.state["cursor"]
    )
    t.state["end"] = len(rows) < HISTORY_PAGE
    t.state["cursor"] = queries.cursor_of(rows[-1]) if rows else None
    return rows


def head_chat(t: Turn) -> Any:
    recalled = memory.recall(t.session, _chat_memories(t, models), limit=20)
    t.session.commit()
    return len(recalled)


@dataclass(frozen=True)
class MixEntry:
    """How often users do an operation (relative weight), and its code in each state."""

    weight: int
    baseline: Operation
    head: Operation


def _workflow(t: Turn) -> uuid.UUID:
    return t.rng.choice(t.user.workflow_ids)


def _provider(t: Turn) -> str:
    return t.rng.choice(PROVIDERS)


MIX: dict[str, MixEntry] = {
    "dashboard": MixEntry(20, baseline_dashboard, head_dashboard),
    "history": MixEntry(25, baseline_history, head_history),
    "run_workflow": MixEntry(
        20,
        lambda t: _run_workflow(t, baseline.load_workflow(t.session, _workflow(t)), bm),
        # the hot path reads the workflow as one document (agentdb.workflow_document)
        lambda t: _run_workflow(t, head.workflow_document(t.session, _workflow(t)), models),
    ),
    "chat_turn": MixEntry(25, baseline_chat, head_chat),
    "search_agents": MixEntry(
        10,
        lambda t: baseline.agents_by_provider_astext(t.session, _provider(t), SEARCH_PAGE),
        lambda t: head.agents_by_provider(t.session, _provider(t), SEARCH_PAGE),
    ),
}


def population(session: Session, size: int, heaviest: uuid.UUID) -> list[PlatformUser]:
    """Up to `size` users who own a workflow with an agent block and an agent; heaviest first."""
    query = text(output.sql("load_population"))
    rows = session.execute(query, {"heaviest": heaviest, "size": size * 2}).all()
    users = [PlatformUser(uid, tuple(w), tuple(a)) for uid, w, a in rows if w and a]
    return users[:size]
