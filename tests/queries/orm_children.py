"""An app's ORM writes of every child table, none passing user_id, and what the helpers read back.

Shared by tests/queries/test_child_user_id.py (single node) and
tests/citus/test_citus.py: the same code, only the URL differs, and the
snapshot of the helpers' objects must be equal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pyglue import queries
from pyglue.models import (
    Agent,
    AgentBlock,
    AgentExecution,
    AgentMemory,
    AgentTool,
    ExecutionMetrics,
    Knowledgebase,
    User,
    Workflow,
    WorkflowEdge,
    WorkflowExecution,
)


@dataclass(frozen=True)
class Ids:
    user: uuid.UUID
    agent: uuid.UUID
    knowledgebase: uuid.UUID
    workflow: uuid.UUID
    blocks: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
    runs: tuple[uuid.UUID, uuid.UUID]
    workflow_run: uuid.UUID


def fixed_ids(seed: int) -> Ids:
    def u(n: int) -> uuid.UUID:
        return uuid.UUID(int=seed * 1000 + n)

    return Ids(u(1), u(2), u(3), u(4), (u(5), u(6), u(7)), (u(8), u(9)), u(10))


def write_with_orm(engine: Engine, ids: Ids, started_at: datetime) -> None:
    """Every child table written through the ORM as an app does, user_id never given.

    Each way of naming the parent: the relationship (the parent object), the
    key with the parent in the session's identity map, and the key alone in
    a new session (the fill then SELECTs the parent's user_id).
    """
    with Session(engine) as session:
        kb = Knowledgebase(id=ids.knowledgebase, user_id=ids.user, name="kb one")
        agent = Agent(
            id=ids.agent, user_id=ids.user, name="writer", configuration={"llm_provider": "x"},
            knowledgebases=[kb],  # the link row: user_id synced from the agent
            tools=[AgentTool(name="b-tool", tool_type="http")],  # tool.agent is the agent
        )  # fmt: skip
        session.add_all([User(id=ids.user, email=f"{ids.user}@example.com"), kb, agent])
        session.flush()
        session.add(AgentTool(agent_id=ids.agent, name="a-tool", tool_type="sql"))  # identity map
        session.add(
            Workflow(
                id=ids.workflow, user_id=ids.user, name="flow", graph_definition={"nodes": []},
                blocks=[
                    AgentBlock(id=ids.blocks[0], agent_id=ids.agent, type="agent", name="b0",
                               position=0),
                    AgentBlock(id=ids.blocks[1], type="tool", name="b1", position=1),
                ],
            )
        )  # fmt: skip
        run = AgentExecution(
            id=ids.runs[0], agent_id=ids.agent, user_id=ids.user, status="completed",
            started_at=started_at, duration_ms=10,
        )  # fmt: skip
        session.add(run)
        session.add(
            WorkflowExecution(id=ids.workflow_run, workflow_id=ids.workflow, user_id=ids.user,
                              status="completed", started_at=started_at)
        )  # fmt: skip
        session.add(ExecutionMetrics(execution=run, total_tokens=7, cost=Decimal("0.5")))
        session.commit()
    with Session(engine) as session:  # the parents are not in this session: one SELECT each
        session.add(AgentMemory(agent_id=ids.agent, type="long_term", content="remember"))
        session.add(
            AgentBlock(id=ids.blocks[2], workflow_id=ids.workflow, type="tool", name="b2",
                       position=2)
        )  # fmt: skip
        session.flush()
        session.add(
            WorkflowEdge(workflow_id=ids.workflow, source_block_id=ids.blocks[0],
                         target_block_id=ids.blocks[2], condition="then")
        )  # fmt: skip
        session.add(
            AgentExecution(id=ids.runs[1], agent_id=ids.agent, user_id=ids.user,
                           status="failed", started_at=started_at, duration_ms=20)
        )  # fmt: skip
        session.flush()
        session.add(ExecutionMetrics(execution_id=ids.runs[1], total_tokens=9, cost=Decimal("1")))
        session.commit()


def snapshot(engine: Engine, ids: Ids) -> dict[str, Any]:
    """What the helpers return, as plain values (no server-set timestamps)."""
    with Session(engine) as session:
        agent = queries.get_agent_with_relations(session, ids.agent)
        workflow = queries.get_workflow_with_relations(session, ids.workflow)
        dashboard = queries.get_dashboard_executions_optimized(session, ids.user)
        history = queries.get_agent_execution_history(session, ids.user, ids.agent)
        runs = queries.get_workflow_execution_history(session, ids.user, ids.workflow)
        assert agent is not None
        assert workflow is not None
        return {
            "agent": (
                agent.id, agent.user_id, agent.name, agent.owner.email,
                [(t.name, t.tool_type, t.user_id) for t in agent.tools],
                [(k.id, k.name, k.user_id) for k in agent.knowledgebases],
            ),
            "workflow": (
                workflow.id, workflow.owner.email,
                [(b.id, b.position, b.user_id, b.agent.id if b.agent else None)
                 for b in workflow.blocks],
                [(e.source_block_id, e.target_block_id, e.condition, e.user_id)
                 for e in workflow.edges],
            ),
            "dashboard": sorted(
                (e.id, e.status, e.agent.name,
                 None if e.metrics is None else (e.metrics.total_tokens, e.metrics.user_id))
                for e in dashboard
            ),
            "history": sorted(e.id for e in history),
            "workflow_history": [(r.id, r.status) for r in runs],
        }  # fmt: skip


def expected(ids: Ids) -> dict[str, Any]:
    user = ids.user
    email = f"{user}@example.com"
    return {
        "agent": (
            ids.agent, user, "writer", email,
            [("a-tool", "sql", user), ("b-tool", "http", user)],
            [(ids.knowledgebase, "kb one", user)],
        ),
        "workflow": (
            ids.workflow, email,
            [(ids.blocks[0], 0, user, ids.agent), (ids.blocks[1], 1, user, None),
             (ids.blocks[2], 2, user, None)],
            [(ids.blocks[0], ids.blocks[2], "then", user)],
        ),
        "dashboard": sorted([
            (ids.runs[0], "completed", "writer", (7, user)),
            (ids.runs[1], "failed", "writer", (9, user)),
        ]),
        "history": sorted(ids.runs),
        "workflow_history": [(ids.workflow_run, "completed")],
    }  # fmt: skip
