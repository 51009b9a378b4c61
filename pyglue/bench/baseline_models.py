"""The platform's own ORM before agentdb: json columns and lazy="select" relationships.

The benchmark times this against pyglue at head. It maps the baseline schema
(sql/schema/baseline.sql) the way the platform's code did: every relationship
loads on first touch, one query per touch, which is the N+1 the plan measured.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Integer, Numeric, String, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class BaselineBase(DeclarativeBase):
    """A metadata of its own: these classes must never mix with pyglue.models; every table's
    primary key is a uuid named id."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


agent_knowledgebases = Table(
    "agent_knowledgebases",
    BaselineBase.metadata,
    Column("agent_id", Uuid, ForeignKey("agents.id"), primary_key=True),
    Column("knowledgebase_id", Uuid, ForeignKey("knowledgebases.id"), primary_key=True),
)


class User(BaselineBase):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="user")


class Agent(BaselineBase):
    __tablename__ = "agents"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    configuration: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    owner: Mapped[User] = relationship()
    tools: Mapped[list[AgentTool]] = relationship(back_populates="agent")
    knowledgebases: Mapped[list[Knowledgebase]] = relationship(secondary=agent_knowledgebases)


class AgentTool(BaselineBase):
    __tablename__ = "agent_tools"

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id"))
    name: Mapped[str] = mapped_column(String(255))
    tool_type: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    agent: Mapped[Agent] = relationship(back_populates="tools")


class Knowledgebase(BaselineBase):
    __tablename__ = "knowledgebases"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(255))


class Workflow(BaselineBase):
    __tablename__ = "workflows"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(255))
    graph_definition: Mapped[dict[str, Any]] = mapped_column(JSON)

    owner: Mapped[User] = relationship()
    blocks: Mapped[list[AgentBlock]] = relationship(back_populates="workflow")
    edges: Mapped[list[WorkflowEdge]] = relationship()


class AgentBlock(BaselineBase):
    __tablename__ = "agent_blocks"

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    type: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sub_blocks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    workflow: Mapped[Workflow] = relationship(back_populates="blocks")
    agent: Mapped[Agent | None] = relationship()


class WorkflowEdge(BaselineBase):
    __tablename__ = "workflow_edges"

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"))
    source_block_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_blocks.id"))
    target_block_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_blocks.id"))
    condition: Mapped[str | None] = mapped_column(String(255))


class _Run:
    """What a workflow's and an agent's executions both record."""

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    input_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    output_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class WorkflowExecution(_Run, BaselineBase):
    __tablename__ = "workflow_executions"

    workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"))

    workflow: Mapped[Workflow] = relationship()


class AgentExecution(_Run, BaselineBase):
    __tablename__ = "agent_executions"

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id"))
    workflow_execution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workflow_executions.id")
    )

    agent: Mapped[Agent] = relationship()
    metrics: Mapped[ExecutionMetrics | None] = relationship(uselist=False)


class ExecutionMetrics(BaselineBase):
    __tablename__ = "execution_metrics"

    execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_executions.id"))
    llm_call_count: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(0))


class AgentMemory(BaselineBase):
    __tablename__ = "agent_memories"

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id"))
    session_id: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    importance: Mapped[str] = mapped_column(String(10), default="medium")
    content: Mapped[str] = mapped_column(Text)
    access_count: Mapped[int] = mapped_column(Integer, default=0)
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
