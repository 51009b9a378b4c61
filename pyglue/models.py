"""SQLAlchemy 2 mapped classes for the platform's tables at head.

Every relationship is `lazy="raise"`: touching one that the query did not load
is an error, never a hidden query. Load with the helpers in `pyglue.queries`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    object_session,
    relationship,
)
from sqlalchemy.orm.util import identity_key

# lazy="raise" names the helper that loads the relationship; the loader
# must be registered before any mapper is configured.
import pyglue.raiseload  # noqa: F401

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUSES = ("pending", "running", "completed", "failed", "cancelled")
UNFINISHED_STATUSES = ("pending", "running")
MEMORY_TYPES = ("short_term", "long_term", "episodic")
IMPORTANCE_LEVELS = ("low", "medium", "high")
USER_ROLES = ("user", "admin")

UTC_NOW = text("timezone('utc', now())")
GEN_UUID = text("gen_random_uuid()")
EMPTY_JSONB = text("'{}'::jsonb")


def _in_list(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, server_default=GEN_UUID)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime, nullable=False, server_default=UTC_NOW)


def _updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime, nullable=False, server_default=UTC_NOW)


def _parent_user_id() -> Mapped[uuid.UUID]:
    # a copy of the parent's user_id (0020): the column Citus distributes by;
    # filled on insert from the parent when not given (the events at the end)
    return mapped_column(Uuid, nullable=False)


agent_knowledgebases = Table(
    "agent_knowledgebases",
    Base.metadata,
    Column("agent_id", Uuid, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "knowledgebase_id",
        Uuid,
        ForeignKey("knowledgebases.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("created_at", DateTime, nullable=False, server_default=UTC_NOW),
    # the agent's (0020): filled by the default below when the ORM inserts a link
    Column("user_id", Uuid, nullable=False, default=lambda context: _agent_user_of_link(context)),
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in_list("role", USER_ROLES), name="role"),)

    id: Mapped[uuid.UUID] = _pk()
    email: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), nullable=False, server_default="user")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        Index("ix_agents_config_gin", "configuration", postgresql_using="gin",
              postgresql_ops={"configuration": "jsonb_path_ops"}),
        Index("ix_agents_llm_provider", text("(configuration ->> 'llm_provider')")),
        Index("ix_agents_llm_model", text("(configuration ->> 'llm_model')")),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = _pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    configuration: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSONB
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    owner: Mapped[User] = relationship(lazy="raise")
    # children are joined on (user_id, parent key) as well: the same rows
    # (a child's user_id is its parent's), and the join Citus can run
    tools: Mapped[list[AgentTool]] = relationship(
        lazy="raise",
        back_populates="agent",
        order_by="AgentTool.name, AgentTool.id",
        primaryjoin="and_(Agent.id == AgentTool.agent_id, Agent.user_id == AgentTool.user_id)",
    )
    knowledgebases: Mapped[list[Knowledgebase]] = relationship(
        secondary=agent_knowledgebases,
        lazy="raise",
        order_by="Knowledgebase.name",
        # a link the ORM inserts takes the agent's user_id (foreign)
        primaryjoin="and_(Agent.id == foreign(agent_knowledgebases.c.agent_id),"
        " Agent.user_id == foreign(agent_knowledgebases.c.user_id))",
        secondaryjoin="and_(Knowledgebase.id == foreign(agent_knowledgebases.c.knowledgebase_id),"
        " Knowledgebase.user_id == agent_knowledgebases.c.user_id)",
    )


class AgentTool(Base):
    __tablename__ = "agent_tools"

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    tool_type: Mapped[str] = mapped_column(String(50), nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSONB
    )
    created_at: Mapped[datetime] = _created_at()
    user_id: Mapped[uuid.UUID] = _parent_user_id()

    agent: Mapped[Agent] = relationship(
        lazy="raise",
        back_populates="tools",
        primaryjoin="and_(Agent.id == AgentTool.agent_id, Agent.user_id == AgentTool.user_id)",
    )


class Knowledgebase(Base):
    __tablename__ = "knowledgebases"

    id: Mapped[uuid.UUID] = _pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    embedding_model: Mapped[str] = mapped_column(
        String(100), nullable=False, server_default="text-embedding-3-small"
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Workflow(Base):
    __tablename__ = "workflows"
    __table_args__ = (
        Index("ix_workflows_graph_gin", "graph_definition", postgresql_using="gin",
              postgresql_ops={"graph_definition": "jsonb_path_ops"}),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = _pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    graph_definition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    owner: Mapped[User] = relationship(lazy="raise")
    blocks: Mapped[list[AgentBlock]] = relationship(
        lazy="raise",
        back_populates="workflow",
        order_by="AgentBlock.position, AgentBlock.id",
        primaryjoin="and_(Workflow.id == AgentBlock.workflow_id,"
        " Workflow.user_id == AgentBlock.user_id)",
    )
    edges: Mapped[list[WorkflowEdge]] = relationship(
        lazy="raise",
        order_by="WorkflowEdge.id",
        overlaps="workflow",
        primaryjoin="and_(Workflow.id == WorkflowEdge.workflow_id,"
        " Workflow.user_id == WorkflowEdge.user_id)",
    )


class AgentBlock(Base):
    __tablename__ = "agent_blocks"

    id: Mapped[uuid.UUID] = _pk()
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False, index=True
    )
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    config: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSONB
    )
    sub_blocks: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=EMPTY_JSONB
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    user_id: Mapped[uuid.UUID] = _parent_user_id()

    workflow: Mapped[Workflow] = relationship(
        lazy="raise",
        back_populates="blocks",
        primaryjoin="and_(Workflow.id == AgentBlock.workflow_id,"
        " Workflow.user_id == AgentBlock.user_id)",
    )
    # the block's agent is its workflow's user's (Citus's composite key
    # requires it): joined on (user_id, agent_id); setting it sets agent_id only
    agent: Mapped[Agent | None] = relationship(
        lazy="raise",
        primaryjoin="and_(Agent.id == foreign(AgentBlock.agent_id),"
        " Agent.user_id == AgentBlock.user_id)",
    )


class WorkflowEdge(Base):
    __tablename__ = "workflow_edges"

    id: Mapped[uuid.UUID] = _pk()
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source_block_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent_blocks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    target_block_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agent_blocks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    condition: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = _created_at()
    user_id: Mapped[uuid.UUID] = _parent_user_id()


def _status_check() -> CheckConstraint:
    return CheckConstraint(_in_list("status", STATUSES), name="status")


UNFINISHED = text(_in_list("status", UNFINISHED_STATUSES))


# a run's metrics: by the foreign key (execution_id, started_at), and user_id
_METRICS_JOIN = (
    "and_(AgentExecution.id == foreign(ExecutionMetrics.execution_id),"
    " AgentExecution.started_at == foreign(ExecutionMetrics.started_at),"
    " AgentExecution.user_id == ExecutionMetrics.user_id)"
)

# The execution history is partitioned by month on started_at (0016):
# PostgreSQL wants the partition key in the table's primary key, while the
# ORM keeps identifying a run by its id alone (session.get(Model, id)).
PARTITIONED_BY_MONTH = {"postgresql_partition_by": "RANGE (started_at)"}
IDENTIFIED_BY_ID: dict[str, Any] = {"primary_key": ["id"], "eager_defaults": True}


class WorkflowExecution(Base):
    __tablename__ = "workflow_executions"
    __mapper_args__ = IDENTIFIED_BY_ID
    __table_args__ = (
        _status_check(),
        Index("ix_workflow_exec_user_workflow_status",
              "user_id", "workflow_id", "started_at", "id", "status"),
        Index("ix_workflow_exec_user_started", "user_id", "started_at", "id"),
        Index("ix_workflow_exec_status_started", "status", "started_at",
              postgresql_where=UNFINISHED),
        PARTITIONED_BY_MONTH,
    )  # fmt: skip

    id: Mapped[uuid.UUID] = _pk()
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    session_id: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    input_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    output_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(
        DateTime, primary_key=True, server_default=UTC_NOW, index=True
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    workflow: Mapped[Workflow] = relationship(lazy="raise")


class AgentExecution(Base):
    __tablename__ = "agent_executions"
    __mapper_args__ = IDENTIFIED_BY_ID
    __table_args__ = (
        _status_check(),
        Index("ix_agent_exec_user_agent_started", "user_id", "agent_id", "started_at", "id"),
        Index("ix_agent_exec_user_started", "user_id", "started_at", "id"),
        Index("ix_agent_exec_session_status", "session_id", "status"),
        Index("ix_agent_exec_status_started", "status", "started_at",
              postgresql_where=UNFINISHED),
        PARTITIONED_BY_MONTH,
    )  # fmt: skip

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # a reference kept by triggers, not a foreign key (see 0016)
    workflow_execution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    session_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    input_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    output_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(
        DateTime, primary_key=True, server_default=UTC_NOW, index=True
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    # joined on (user_id, agent_id): a run is its agent's user's (Citus's
    # composite key requires it); setting it sets agent_id only
    agent: Mapped[Agent] = relationship(
        lazy="raise",
        primaryjoin="and_(Agent.id == foreign(AgentExecution.agent_id),"
        " Agent.user_id == AgentExecution.user_id)",
    )
    metrics: Mapped[ExecutionMetrics | None] = relationship(
        lazy="raise",
        uselist=False,
        back_populates="execution",
        primaryjoin=_METRICS_JOIN,
    )


class ExecutionMetrics(Base):
    __tablename__ = "execution_metrics"
    __mapper_args__ = IDENTIFIED_BY_ID
    __table_args__ = (
        UniqueConstraint("execution_id", "started_at"),
        ForeignKeyConstraint(
            ["execution_id", "started_at"],
            ["agent_executions.id", "agent_executions.started_at"],
            onupdate="CASCADE", ondelete="CASCADE",
        ),
        PARTITIONED_BY_MONTH,
    )  # fmt: skip

    id: Mapped[uuid.UUID] = _pk()
    execution_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    llm_call_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    prompt_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("0")
    )
    total_tokens: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 6), nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    # its execution's: a run and its metrics share a month (0016); filled
    # from the execution on insert when not given (fill_metrics_started_at)
    started_at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    user_id: Mapped[uuid.UUID] = _parent_user_id()

    execution: Mapped[AgentExecution] = relationship(
        lazy="raise", back_populates="metrics", primaryjoin=_METRICS_JOIN
    )


# --- user_id of the children (0020) ---
# An ORM insert of a child fills user_id from its parent: from the parent
# object when the session has it (set as the relationship, or in the
# identity map), else with one SELECT by the parent's primary key. On Citus
# this is what routes the row (the coordinator needs the distribution
# column before the row exists); on a single node a trigger would fill it
# too, and refuses a user_id that is not the parent's.


def _loaded_parent(target: object, relation: str, parent: type[Any], key: Any) -> Any:
    """The parent object the session already holds, without loading anything, or None."""
    found = target.__dict__.get(relation)
    if found is None and key is not None:
        session = object_session(target)
        if session is not None:
            found = session.identity_map.get(identity_key(parent, (key,)))
    if found is not None and found.__dict__.get("user_id") is not None:
        return found
    return None


def _user_of(connection: Connection, parent: Any, key: Any) -> uuid.UUID:
    user: uuid.UUID = connection.execute(
        select(parent.user_id).where(parent.id == key)
    ).scalar_one()
    return user


@event.listens_for(ExecutionMetrics, "before_insert")
def fill_metrics_started_at(_mapper: Any, connection: Connection, target: ExecutionMetrics) -> None:
    """started_at (0016) and user_id (0020) are the execution's, when not given."""
    if target.started_at is not None and target.user_id is not None:
        return
    execution = _loaded_parent(target, "execution", AgentExecution, target.execution_id)
    if execution is not None and execution.__dict__.get("started_at") is not None:
        started_at, user_id = execution.started_at, execution.user_id
    else:
        started_at, user_id = connection.execute(
            select(AgentExecution.started_at, AgentExecution.user_id).where(
                AgentExecution.id == target.execution_id
            )
        ).one()
    if target.started_at is None:
        target.started_at = started_at
    if target.user_id is None:
        target.user_id = user_id


class AgentMemory(Base):
    __tablename__ = "agent_memories"
    __table_args__ = (
        CheckConstraint(_in_list("type", MEMORY_TYPES), name="type"),
        CheckConstraint(_in_list("importance", IMPORTANCE_LEVELS), name="importance"),
        # memory lifecycle (0006, on (age, id) since 0021): one partial index per
        # default memory policy, and consolidation's
        Index("ix_agent_memories_short_term_created_id", "created_at", "id",
              postgresql_where=text("type = 'short_term'")),
        Index("ix_agent_memories_long_term_low_accessed_id",
              text("(coalesce(last_accessed_at, created_at))"), "id",
              postgresql_include=["last_accessed_at", "created_at"],
              postgresql_where=text("type = 'long_term' AND importance = 'low'")),
        Index("ix_agent_memories_episodic_low_created_id", "created_at", "id",
              postgresql_where=text("type = 'episodic' AND importance = 'low'")),
        Index("ix_agent_memories_short_term_recalled", "created_at",
              postgresql_where=text("type = 'short_term' AND access_count >= 3")),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    session_id: Mapped[str | None] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    importance: Mapped[str] = mapped_column(String(10), nullable=False, server_default="medium")
    content: Mapped[str] = mapped_column(Text, nullable=False)
    access_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    user_id: Mapped[uuid.UUID] = _parent_user_id()

    agent: Mapped[Agent] = relationship(
        lazy="raise",
        primaryjoin="and_(Agent.id == foreign(AgentMemory.agent_id),"
        " Agent.user_id == AgentMemory.user_id)",
    )


# --- execution stats: daily rollups, folded from the triggers' deltas ---
# Created by migration 0007 (sql/stats/rollup_tables.sql); counters are
# written by the database (agentdb.fold_stats_batch, refresh_execution_stats),
# never by the ORM; reads add the pending deltas (revision 0010).
# avg_duration_ms is round(total_duration_ms / duration_count), written with
# the sums. The tables' fillfactor (80, for HOT counter updates)
# is set in the SQL only.

AGENT_EXECUTION_STATS_COMMENT = (
    "Per agent, user and UTC day a run started on: exact counts, duration "
    "sum/count/min/max, tokens, LLM calls and cost of agent_executions (+ "
    "execution_metrics), as folded from agentdb.agent_stats_deltas; reads add the "
    "pending deltas (agentdb.agent_stats_now). Deleting raw executions (retention) does "
    "NOT change history already rolled up here; agentdb.refresh_execution_stats() "
    "rebuilds days from the raw rows that survive."
)
WORKFLOW_EXECUTION_STATS_COMMENT = (
    "Per workflow, user and UTC day a run started on: exact counts and duration "
    "sum/count/min/max of workflow_executions, as folded from "
    "agentdb.workflow_stats_deltas; reads add the pending deltas "
    "(agentdb.workflow_stats_now). Deleting raw executions (retention) does NOT change "
    "history already rolled up here; agentdb.refresh_execution_stats() rebuilds days "
    "from the raw rows that survive."
)
USER_EXECUTION_STATS_COMMENT = (
    "Per user and UTC day a run started on: the agent deltas of all the user's agents "
    "summed as they are folded (a 30-day dashboard reads 31 rows plus the pending "
    "deltas, agentdb.user_stats_now). Deleting raw executions (retention) or an agent "
    "does NOT change history already rolled up here; agentdb.refresh_execution_stats() "
    "rebuilds days from the raw rows that survive."
)


def _counter() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, server_default=text("0"))


class _ExecutionStatsColumns:
    """The counters every daily execution rollup has."""

    execution_count: Mapped[int] = _counter()
    success_count: Mapped[int] = _counter()
    failed_count: Mapped[int] = _counter()
    cancelled_count: Mapped[int] = _counter()
    duration_count: Mapped[int] = _counter()
    total_duration_ms: Mapped[int] = _counter()
    avg_duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    min_duration_ms: Mapped[int | None] = mapped_column(Integer)
    max_duration_ms: Mapped[int | None] = mapped_column(Integer)


class AgentExecutionStats(_ExecutionStatsColumns, Base):
    __tablename__ = "agent_execution_stats"
    __table_args__ = (
        Index("ix_agent_execution_stats_agent_id_date", "agent_id", "date"),
        {"comment": AGENT_EXECUTION_STATS_COMMENT},
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    total_tokens: Mapped[int] = _counter()
    total_llm_calls: Mapped[int] = _counter()
    total_cost: Mapped[Decimal] = mapped_column(
        Numeric(20, 6), nullable=False, server_default=text("0")
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class WorkflowExecutionStats(_ExecutionStatsColumns, Base):
    __tablename__ = "workflow_execution_stats"
    __table_args__ = (
        Index("ix_workflow_execution_stats_workflow_id_date", "workflow_id", "date"),
        {"comment": WORKFLOW_EXECUTION_STATS_COMMENT},
    )  # fmt: skip

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    workflow_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class UserExecutionStats(_ExecutionStatsColumns, Base):
    __tablename__ = "user_execution_stats"
    __table_args__ = ({"comment": USER_EXECUTION_STATS_COMMENT},)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    total_tokens: Mapped[int] = _counter()
    total_llm_calls: Mapped[int] = _counter()
    total_cost: Mapped[Decimal] = mapped_column(
        Numeric(20, 6), nullable=False, server_default=text("0")
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


def _fill_user_id_from(relation: str, parent: type[Agent | Workflow], key: str) -> Any:
    """A before_insert event: user_id, when not given, is the parent's (by `relation`/`key`)."""

    def fill(_mapper: Any, connection: Connection, target: Any) -> None:
        if target.user_id is None:
            found = _loaded_parent(target, relation, parent, getattr(target, key))
            target.user_id = (
                found.user_id
                if found is not None
                else _user_of(connection, parent, getattr(target, key))
            )

    return fill


_FROM_AGENT = _fill_user_id_from("agent", Agent, "agent_id")
_FROM_WORKFLOW = _fill_user_id_from("workflow", Workflow, "workflow_id")
event.listen(AgentTool, "before_insert", _FROM_AGENT)
event.listen(AgentMemory, "before_insert", _FROM_AGENT)
event.listen(AgentBlock, "before_insert", _FROM_WORKFLOW)
event.listen(WorkflowEdge, "before_insert", _FROM_WORKFLOW)


def _agent_user_of_link(context: DefaultExecutionContext) -> uuid.UUID:
    """agent_knowledgebases.user_id of a link the ORM inserts (Agent.knowledgebases)."""
    agent_id = context.get_current_parameters()["agent_id"]  # type: ignore[no-untyped-call]
    return _user_of(context.root_connection, Agent, agent_id)
