"""Eager-loading query helpers, and the statement builders behind them.

Every relationship is lazy="raise", so each helper says exactly what it loads:
collections with selectinload (one more statement per collection, whatever its
size), many-to-one with joinedload (same statement), never two collections
joined into one product of rows (the agent's tools and knowledgebases come in
one statement as a sum of rows, see _AGENT_WITH_RELATIONS). The statement
count of a helper is therefore fixed: get_workflow_with_relations 3, every
other helper 1
(get_stale_running_executions 2: one per execution table).

Each statement is built once, at import, with bind parameters; a helper only
validates its arguments and executes the cached statement, so SQLAlchemy's
compiled cache is hit without regenerating a cache key. The `*_stmt` builders
return the same statement with the values bound, for `AsyncSession`:

    result = await session.execute(workflow_with_relations_stmt(workflow_id))
    workflow = result.scalar_one_or_none()

Every query has the form its index needs (see migrations 0002 and 0003), in
the default plan and in the generic plan psycopg's prepared statements get:
history pages are keyset-paginated on (started_at, id) with a row comparison
(`before=cursor_of(last row)`, never OFFSET), read in order from a composite
index (user_id, workflow_id/agent_id, started_at, id[, status]), with no
Sort; the dashboard page is written as a range of its index's key so that no
other index can serve it (see `_range_page`); the stale-run check spells its status as a literal
so that a generic plan still proves the partial index's predicate, and
computes its cutoff in SQL from timezone('utc', now()); every statement on
an execution table bounds started_at by a horizon (see `_HORIZON`), so that
PostgreSQL plans only the months that can hold a row; JSON search uses
`configuration ->> 'key' = ...` (expression index) or `column @> ...` (GIN,
jsonb_path_ops) on the whole column.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Integer,
    Interval,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import (
    InstrumentedAttribute,
    Session,
    contains_eager,
    joinedload,
    selectinload,
)

from pyglue.models import (
    STATUSES,
    Agent,
    AgentBlock,
    AgentExecution,
    AgentTool,
    ExecutionMetrics,
    Knowledgebase,
    Workflow,
    WorkflowExecution,
    agent_knowledgebases,
)

__all__ = [
    "MAX_LIMIT",
    "HistoryCursor",
    "StaleExecutions",
    "agent_document_stmt",
    "agent_execution_history_stmt",
    "agent_with_relations_stmt",
    "cursor_of",
    "dashboard_executions_stmt",
    "find_agents",
    "find_agents_stmt",
    "find_workflows_with_node_type",
    "find_workflows_with_node_type_stmt",
    "get_agent_document",
    "get_agent_execution_history",
    "get_agent_with_relations",
    "get_dashboard_executions_optimized",
    "get_session_executions",
    "get_stale_running_executions",
    "get_workflow_document",
    "get_workflow_execution_history",
    "get_workflow_with_relations",
    "history_horizon",
    "session_executions_stmt",
    "stale_agent_executions_stmt",
    "stale_workflow_executions_stmt",
    "workflow_document_stmt",
    "workflow_execution_history_stmt",
    "workflow_with_relations_stmt",
]

MAX_LIMIT = 1000
STALE_STATUS = "running"

_T = TypeVar("_T")
Execution = TypeVar("Execution", AgentExecution, WorkflowExecution)


# -- arguments -------------------------------------------------------------------------------


def _uuid(value: object, name: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise ValueError(f"{name} must be a UUID (uuid.UUID or its string form), got {value!r}")


def _limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {value!r}")
    return value


def _status(value: object) -> str:
    if value not in STATUSES:
        allowed = ", ".join(STATUSES)
        raise ValueError(f"status must be one of {allowed} (or None), got {value!r}")
    assert isinstance(value, str)
    return value


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _naive_utc(value: datetime) -> datetime:
    # Timestamps are stored as UTC `timestamp without time zone`; an aware value
    # would be sent as timestamptz and compared in the session's TimeZone.
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class HistoryCursor:
    """Where a history page ended: pass it as `before` to get the next page."""

    started_at: datetime
    id: uuid.UUID

    def __post_init__(self) -> None:
        if not isinstance(self.started_at, datetime):
            raise ValueError(f"started_at must be a datetime, got {self.started_at!r}")
        object.__setattr__(self, "started_at", _naive_utc(self.started_at))
        object.__setattr__(self, "id", _uuid(self.id, "id"))


def cursor_of(execution: AgentExecution | WorkflowExecution) -> HistoryCursor:
    """The cursor of a history row: `before=cursor_of(page[-1])` fetches the next page."""
    return HistoryCursor(execution.started_at, execution.id)


def _cursor_params(before: object) -> dict[str, Any]:
    if before is None:
        return {}
    if not isinstance(before, HistoryCursor):
        raise ValueError(
            f"before must be a HistoryCursor (cursor_of(last row of the previous page)) "
            f"or None, got {before!r}"
        )
    return {"before_started_at": before.started_at, "before_id": before.id}


# -- statements, built once ------------------------------------------------------------------

_LIMIT = bindparam("limit", type_=Integer)

# The execution history is partitioned by month (0016), with months made ahead
# and a default partition. A statement that bounds no month plans every
# partition, about 0.05 ms each on PostgreSQL 15 (locks, relation and index
# metadata): measured at 100k runs, a history page planned in 0.30 ms against
# 0.16 ms before partitioning, 0.17 ms with the bound. So every statement on an
# execution table also says `started_at < :horizon`, the app's clock plus
# HORIZON_SLACK: no run starts that late, so the rows are the same, while
# PostgreSQL leaves the months made ahead out of the plan (and the default
# partition, when the oldest partition reaches back to MINVALUE, as after an
# online adoption). A generic plan prunes them when it starts instead. A run
# that a writer dated more than HORIZON_SLACK past the app's clock is not listed.
HORIZON_SLACK = timedelta(days=1)
_HORIZON = bindparam("horizon", type_=DateTime)


def history_horizon() -> datetime:
    """The bound the helpers put on started_at now (UTC): the app's clock plus HORIZON_SLACK."""
    return datetime.now(UTC).replace(tzinfo=None) + HORIZON_SLACK


def _horizon() -> dict[str, datetime]:
    return {"horizon": history_horizon()}


def _bound(stmt: Select[tuple[_T]], params: Mapping[str, Any]) -> Select[tuple[_T]]:
    return stmt.params(params)


_WORKFLOW_WITH_RELATIONS = (
    select(Workflow)
    .where(Workflow.id == bindparam("workflow_id", type_=Uuid))
    .options(
        joinedload(Workflow.owner, innerjoin=True),
        # AgentBlock.workflow is left unloaded: the caller holds the workflow,
        # and setting it on every block (immediateload) cost 15-25% of the
        # helper's time on a 20-block workflow
        selectinload(Workflow.blocks).joinedload(AgentBlock.agent),
        selectinload(Workflow.edges),
    )
)

# One statement for the agent, its owner and both collections. Joining both
# collections would return tools x knowledgebases rows; instead the agent row
# is joined to two parts (part 1: its tools, part 2: its knowledgebases), so
# the statement returns tools + knowledgebases rows (at least one per part),
# each read from its foreign-key index, and contains_eager fills the
# collections in the ORDER BY's order. Every child is joined on (user_id,
# parent key), as the relationships are (pyglue.models): the same rows on a
# single node, and the join Citus runs on the shards of one user (a join on
# agent_id alone it refuses). The parts are generate_series(1, 2)
# with literal bounds (the planner knows it is two rows, even in a generic
# plan), not a VALUES list: SQLAlchemy never caches the compiled form of a
# statement with VALUES, and compiling it on every call made the helper
# slower than the baseline's lazy statements (medians 2.99 -> 3.28 ms, small).
_AGENT_PART = (
    func.generate_series(literal_column("1"), literal_column("2"))
    .table_valued("n")
    .render_derived(name="agent_part")
)
_AGENT_WITH_RELATIONS = (
    select(Agent)
    .join(Agent.owner)
    .join(_AGENT_PART, true())
    .outerjoin(
        AgentTool,
        and_(_AGENT_PART.c.n == 1, AgentTool.agent_id == Agent.id,
             AgentTool.user_id == Agent.user_id),
    )
    .outerjoin(
        agent_knowledgebases,
        and_(_AGENT_PART.c.n == 2, agent_knowledgebases.c.agent_id == Agent.id,
             agent_knowledgebases.c.user_id == Agent.user_id),
    )
    .outerjoin(
        Knowledgebase,
        and_(Knowledgebase.id == agent_knowledgebases.c.knowledgebase_id,
             Knowledgebase.user_id == agent_knowledgebases.c.user_id),
    )
    .where(Agent.id == bindparam("agent_id", type_=Uuid))
    .options(
        contains_eager(Agent.owner), contains_eager(Agent.tools),
        contains_eager(Agent.knowledgebases),
    )
    .order_by(_AGENT_PART.c.n, AgentTool.name, AgentTool.id, Knowledgebase.name, Knowledgebase.id)
)  # fmt: skip

# History pages are keyset pages: `(started_at, id) < cursor` as one row
# comparison (an index condition, unlike the expanded `a < x OR (a = x AND
# b < y)`), ordered by (started_at, id) DESC, so the composite index ending in
# (started_at, id) is read backwards from the cursor and the scan stops at the
# page's last row: no Sort, no OFFSET.
_BEFORE_STARTED_AT = bindparam("before_started_at", type_=DateTime)
_BEFORE_ID = bindparam("before_id", type_=Uuid)
_USER_ID = bindparam("user_id", type_=Uuid)
_WORKFLOW_ID = bindparam("workflow_id", type_=Uuid)
_AGENT_ID = bindparam("agent_id", type_=Uuid)


def _history(
    entity: type[Execution], equal: list[ColumnElement[bool]], *, cursor: bool
) -> Select[tuple[Execution]]:
    """Rows matching `equal`, newest first, before the cursor if any.

    The page's keys come from the composite index alone (every column is in
    it: an Index Only Scan in index order), then the rows by primary key. In
    the plain form the planner, which takes user and workflow (or agent) as
    independent when one determines the other, underestimates a busy pair and
    for a rare status prefers a bitmap scan plus a Sort of every match; the
    index-only page is the cheapest plan whatever the estimate, custom or generic.

    The table is partitioned by month on started_at (0016): the cursor also
    bounds started_at alone, which PostgreSQL prunes by (a row comparison it
    does not), and the rows are fetched by the whole key, (id, started_at),
    so that each fetch reads one month's primary key.
    """
    page = select(entity.id, entity.started_at).where(*equal, entity.started_at < _HORIZON)
    if cursor:
        key = tuple_(entity.started_at, entity.id)
        page = page.where(
            key < tuple_(_BEFORE_STARTED_AT, _BEFORE_ID), entity.started_at <= _BEFORE_STARTED_AT
        )
    keys = page.order_by(entity.started_at.desc(), entity.id.desc()).limit(_LIMIT).subquery("page")
    return (
        select(entity)
        .join(keys, and_(entity.id == keys.c.id, entity.started_at == keys.c.started_at))
        .where(entity.started_at < _HORIZON)
        .order_by(keys.c.started_at.desc(), keys.c.id.desc())
    )


# The dashboard page is instead written as a range of its index's key,
# ordered by that key (ix_agent_exec_user_started: user_id, started_at, id):
#
#     WHERE (user_id, started_at, id) >= (:user_id, '-infinity', <nil uuid>)
#       AND (user_id, started_at, id) <= (:user_id, 'infinity', <max uuid>)
#     ORDER BY user_id DESC, started_at DESC, id DESC LIMIT :limit
#
# which is exactly `user_id = :user_id ORDER BY started_at DESC, id DESC`.
# With `user_id = :user_id` the order reduces to (started_at, id), which
# ix_agent_executions_started_at also gives (with an incremental sort on id),
# and the planner picks it for a user with a large share of the table: a
# backward scan through every newer execution of every user, all of them for
# an idle heavy user. Only ix_agent_exec_user_started gives the range's order,
# and as user_id leads the row comparison btree stops at the range's end. (The
# histories keep the plain form: the single-column workflow_id/agent_id
# indexes would serve a range led by workflow_id/agent_id, plus a Sort.)
_NEG_INFINITY = literal_column("'-infinity'::timestamp", DateTime)
_INFINITY = literal_column("'infinity'::timestamp", DateTime)
_NIL_UUID = literal_column("'00000000-0000-0000-0000-000000000000'::uuid", Uuid)
_MAX_UUID = literal_column("'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid", Uuid)


def _range_page(
    entity: type[Execution], lead: InstrumentedAttribute[Any], value: BindParameter[Any]
) -> Select[tuple[Execution]]:
    """Rows with `lead = value`, newest first, as a range of (lead, started_at, id)."""
    key = tuple_(lead, entity.started_at, entity.id)
    return (
        select(entity)
        .where(
            key >= tuple_(value, _NEG_INFINITY, _NIL_UUID),
            key <= tuple_(value, _INFINITY, _MAX_UUID),
            entity.started_at < _HORIZON,
        )
        .order_by(lead.desc(), entity.started_at.desc(), entity.id.desc())
        .limit(_LIMIT)
    )


# ix_agent_exec_user_started (user_id, started_at, id). The metrics are joined
# here, not by joinedload, so that their join carries the horizon too (the
# planner does not carry an inequality across the join's equality), and on
# (user_id, execution_id, started_at), as AgentExecution.metrics is (the join
# Citus runs). The agent is joined on (user_id, agent_id) as well, as an outer
# join: an inner join on two equalities is estimated to keep about 1/users of
# the runs, and the planner then gives up the index order for a sort of every
# run of the user. The foreign key (a composite one on Citus) finds every
# run's agent.
_DASHBOARD_EXECUTIONS = (
    _range_page(AgentExecution, AgentExecution.user_id, _USER_ID)
    .outerjoin(
        ExecutionMetrics,
        and_(
            ExecutionMetrics.execution_id == AgentExecution.id,
            ExecutionMetrics.started_at == AgentExecution.started_at,
            ExecutionMetrics.user_id == AgentExecution.user_id,
            ExecutionMetrics.started_at < _HORIZON,
        ),
    )
    .options(
        joinedload(AgentExecution.agent),
        contains_eager(AgentExecution.metrics),
    )
)
# ix_workflow_exec_user_workflow_status (user_id, workflow_id, started_at, id, status)
_WORKFLOW_HISTORY = {
    cursor: _history(
        WorkflowExecution,
        [WorkflowExecution.user_id == _USER_ID, WorkflowExecution.workflow_id == _WORKFLOW_ID],
        cursor=cursor,
    )
    for cursor in (False, True)
}
# the same index, its last column checked in the index: other statuses cost no
# heap visit
_WORKFLOW_HISTORY_BY_STATUS = {
    cursor: _history(
        WorkflowExecution,
        [
            WorkflowExecution.user_id == _USER_ID,
            WorkflowExecution.workflow_id == _WORKFLOW_ID,
            WorkflowExecution.status == bindparam("status", type_=String),
        ],
        cursor=cursor,
    )
    for cursor in (False, True)
}
# ix_agent_exec_user_agent_started (user_id, agent_id, started_at, id)
_AGENT_HISTORY = {
    cursor: _history(
        AgentExecution,
        [AgentExecution.user_id == _USER_ID, AgentExecution.agent_id == _AGENT_ID],
        cursor=cursor,
    )
    for cursor in (False, True)
}

_SESSION_EXECUTIONS = {
    status: select(AgentExecution)
    .where(AgentExecution.session_id == bindparam("session_id", type_=String))
    .where(AgentExecution.started_at < _HORIZON)
    .where(*([AgentExecution.status == bindparam("status", type_=String)] if status else []))
    .order_by(AgentExecution.started_at, AgentExecution.id)
    for status in (False, True)
}


def _stale(entity: type[Execution]) -> Select[tuple[Execution]]:
    # The status is a literal and the cutoff is computed in SQL: a generic plan
    # (psycopg's prepared statements) can then prove the partial index's
    # predicate `status IN ('pending', 'running')` and compare UTC to UTC.
    cutoff = literal_column("timezone('utc', now())", DateTime) - cast(
        bindparam("older_than", type_=Interval), Interval
    )
    return (
        select(entity)
        .where(entity.status == literal_column(f"'{STALE_STATUS}'", String))
        .where(entity.started_at < cutoff, entity.started_at < _HORIZON)
        .order_by(entity.started_at)
        .limit(_LIMIT)
    )


_STALE_AGENT = _stale(AgentExecution)
_STALE_WORKFLOW = _stale(WorkflowExecution)


def _config_key(key: str) -> Any:
    # the key is a literal so the expression matches the index expression
    # `(configuration ->> 'llm_provider')` even in a generic plan
    return Agent.configuration.op("->>", return_type=String)(literal_column(f"'{key}'"))


@cache
def _find_agents(provider: bool, model: bool, contains: bool, user: bool) -> Select[tuple[Agent]]:
    stmt = select(Agent)
    if provider:
        stmt = stmt.where(_config_key("llm_provider") == bindparam("llm_provider", type_=String))
    if model:
        stmt = stmt.where(_config_key("llm_model") == bindparam("llm_model", type_=String))
    if contains:
        stmt = stmt.where(Agent.configuration.op("@>")(bindparam("config_contains", type_=JSONB)))
    if user:
        stmt = stmt.where(Agent.user_id == bindparam("user_id", type_=Uuid))
    # (name, id) and not id: no index gives this order, so a generic plan, which
    # cannot know how selective the value is, costs a full sort and PostgreSQL
    # keeps planning each value; ORDER BY id would make walking the primary key
    # look cheap, and that walks the whole table for a rare value.
    return stmt.order_by(Agent.name, Agent.id).limit(_LIMIT)


# ordered by (name, id) for the reason given in _find_agents
_WORKFLOWS_WITH_NODE_TYPE = {
    user: select(Workflow)
    .where(Workflow.graph_definition.op("@>")(bindparam("node_pattern", type_=JSONB)))
    .where(*([Workflow.user_id == bindparam("user_id", type_=Uuid)] if user else []))
    .order_by(Workflow.name, Workflow.id)
    .limit(_LIMIT)
    for user in (False, True)
}

_WORKFLOW_DOCUMENT = select(
    func.agentdb.workflow_document(bindparam("workflow_id", type_=Uuid), type_=JSONB)
)
_AGENT_DOCUMENT = select(
    func.agentdb.agent_document(bindparam("agent_id", type_=Uuid), type_=JSONB)
)


# -- builders: validate, then bind the cached statement ---------------------------------------


def _workflow_with_relations_args(workflow_id: object) -> dict[str, Any]:
    return {"workflow_id": _uuid(workflow_id, "workflow_id")}


def workflow_with_relations_stmt(workflow_id: uuid.UUID | str) -> Select[tuple[Workflow]]:
    """The statement of get_workflow_with_relations, values bound."""
    return _bound(_WORKFLOW_WITH_RELATIONS, _workflow_with_relations_args(workflow_id))


def _agent_with_relations_args(agent_id: object) -> dict[str, Any]:
    return {"agent_id": _uuid(agent_id, "agent_id")}


def agent_with_relations_stmt(agent_id: uuid.UUID | str) -> Select[tuple[Agent]]:
    """The statement of get_agent_with_relations, values bound.

    It fills collections from joined rows: read it with
    `result.unique().scalar_one_or_none()`.
    """
    return _bound(_AGENT_WITH_RELATIONS, _agent_with_relations_args(agent_id))


def _dashboard_args(user_id: object, limit: object) -> dict[str, Any]:
    return {"user_id": _uuid(user_id, "user_id"), "limit": _limit(limit), **_horizon()}


def dashboard_executions_stmt(
    user_id: uuid.UUID | str, limit: int = 50
) -> Select[tuple[AgentExecution]]:
    """The statement of get_dashboard_executions_optimized, values bound."""
    return _bound(_DASHBOARD_EXECUTIONS, _dashboard_args(user_id, limit))


def _workflow_history(
    user_id: object, workflow_id: object, status: object, limit: object, before: object
) -> tuple[Select[tuple[WorkflowExecution]], dict[str, Any]]:
    params: dict[str, Any] = {
        "user_id": _uuid(user_id, "user_id"),
        "workflow_id": _uuid(workflow_id, "workflow_id"),
        "limit": _limit(limit),
        **_horizon(),
    }
    params.update(_cursor_params(before))
    if status is None:
        return _WORKFLOW_HISTORY[before is not None], params
    params["status"] = _status(status)
    return _WORKFLOW_HISTORY_BY_STATUS[before is not None], params


def workflow_execution_history_stmt(
    user_id: uuid.UUID | str,
    workflow_id: uuid.UUID | str,
    *,
    status: str | None = None,
    limit: int = 50,
    before: HistoryCursor | None = None,
) -> Select[tuple[WorkflowExecution]]:
    """The statement of get_workflow_execution_history, values bound."""
    return _bound(*_workflow_history(user_id, workflow_id, status, limit, before))


def _agent_history(
    user_id: object, agent_id: object, limit: object, before: object
) -> tuple[Select[tuple[AgentExecution]], dict[str, Any]]:
    params: dict[str, Any] = {
        "user_id": _uuid(user_id, "user_id"),
        "agent_id": _uuid(agent_id, "agent_id"),
        "limit": _limit(limit),
        **_horizon(),
    }
    params.update(_cursor_params(before))
    return _AGENT_HISTORY[before is not None], params


def agent_execution_history_stmt(
    user_id: uuid.UUID | str,
    agent_id: uuid.UUID | str,
    *,
    limit: int = 50,
    before: HistoryCursor | None = None,
) -> Select[tuple[AgentExecution]]:
    """The statement of get_agent_execution_history, values bound."""
    return _bound(*_agent_history(user_id, agent_id, limit, before))


def _session_executions(
    session_id: object, status: object
) -> tuple[Select[tuple[AgentExecution]], dict[str, Any]]:
    params: dict[str, Any] = {"session_id": _text(session_id, "session_id"), **_horizon()}
    if status is not None:
        params["status"] = _status(status)
    return _SESSION_EXECUTIONS[status is not None], params


def session_executions_stmt(
    session_id: str, *, status: str | None = None
) -> Select[tuple[AgentExecution]]:
    """The statement of get_session_executions, values bound."""
    return _bound(*_session_executions(session_id, status))


def _stale_args(older_than: object, limit: object) -> dict[str, Any]:
    if not isinstance(older_than, timedelta) or older_than <= timedelta(0):
        raise ValueError(f"older_than must be a positive timedelta, got {older_than!r}")
    return {"older_than": older_than, "limit": _limit(limit), **_horizon()}


def stale_agent_executions_stmt(
    *, older_than: timedelta = timedelta(hours=1), limit: int = 100
) -> Select[tuple[AgentExecution]]:
    """Agent executions still 'running' after `older_than`, oldest first, values bound."""
    return _bound(_STALE_AGENT, _stale_args(older_than, limit))


def stale_workflow_executions_stmt(
    *, older_than: timedelta = timedelta(hours=1), limit: int = 100
) -> Select[tuple[WorkflowExecution]]:
    """Workflow executions still 'running' after `older_than`, oldest first, values bound."""
    return _bound(_STALE_WORKFLOW, _stale_args(older_than, limit))


def _find_agents_args(
    llm_provider: object, llm_model: object, config_contains: object, user_id: object,
    limit: object,
) -> tuple[Select[tuple[Agent]], dict[str, Any]]:  # fmt: skip
    params: dict[str, Any] = {"limit": _limit(limit)}
    if llm_provider is not None:
        params["llm_provider"] = _text(llm_provider, "llm_provider")
    if llm_model is not None:
        params["llm_model"] = _text(llm_model, "llm_model")
    if config_contains is not None:
        if not isinstance(config_contains, Mapping) or not config_contains:
            raise ValueError(
                f"config_contains must be a non-empty dict of configuration keys and values, "
                f"got {config_contains!r}"
            )
        params["config_contains"] = dict(config_contains)
    if user_id is not None:
        params["user_id"] = _uuid(user_id, "user_id")
    stmt = _find_agents(
        llm_provider is not None,
        llm_model is not None,
        config_contains is not None,
        user_id is not None,
    )
    return stmt, params


def find_agents_stmt(
    *,
    llm_provider: str | None = None,
    llm_model: str | None = None,
    config_contains: Mapping[str, Any] | None = None,
    user_id: uuid.UUID | str | None = None,
    limit: int = 100,
) -> Select[tuple[Agent]]:
    """The statement of find_agents, values bound."""
    return _bound(*_find_agents_args(llm_provider, llm_model, config_contains, user_id, limit))


def _node_type_args(
    node_type: object, user_id: object, limit: object
) -> tuple[Select[tuple[Workflow]], dict[str, Any]]:
    params: dict[str, Any] = {
        "node_pattern": {"nodes": [{"type": _text(node_type, "node_type")}]},
        "limit": _limit(limit),
    }
    if user_id is not None:
        params["user_id"] = _uuid(user_id, "user_id")
    return _WORKFLOWS_WITH_NODE_TYPE[user_id is not None], params


def find_workflows_with_node_type_stmt(
    node_type: str, *, user_id: uuid.UUID | str | None = None, limit: int = 100
) -> Select[tuple[Workflow]]:
    """The statement of find_workflows_with_node_type, values bound."""
    return _bound(*_node_type_args(node_type, user_id, limit))


def workflow_document_stmt(workflow_id: uuid.UUID | str) -> Select[tuple[dict[str, Any] | None]]:
    """`SELECT agentdb.workflow_document(:workflow_id)`, value bound."""
    return _bound(_WORKFLOW_DOCUMENT, _workflow_with_relations_args(workflow_id))


def agent_document_stmt(agent_id: uuid.UUID | str) -> Select[tuple[dict[str, Any] | None]]:
    """`SELECT agentdb.agent_document(:agent_id)`, value bound."""
    return _bound(_AGENT_DOCUMENT, _agent_with_relations_args(agent_id))


# -- helpers: validate, then execute the cached statement -------------------------------------


def get_workflow_with_relations(session: Session, workflow_id: uuid.UUID | str) -> Workflow | None:
    """The workflow with its owner, blocks (by position, id) with their agents, and edges."""
    params = _workflow_with_relations_args(workflow_id)
    return session.execute(_WORKFLOW_WITH_RELATIONS, params).scalar_one_or_none()


def get_agent_with_relations(session: Session, agent_id: uuid.UUID | str) -> Agent | None:
    """The agent with its owner, tools (by name, id) and knowledgebases (by name)."""
    params = _agent_with_relations_args(agent_id)
    return session.execute(_AGENT_WITH_RELATIONS, params).unique().scalar_one_or_none()


def get_dashboard_executions_optimized(
    session: Session, user_id: uuid.UUID | str, limit: int = 50
) -> list[AgentExecution]:
    """The user's latest agent executions, newest first, each with its agent and metrics."""
    params = _dashboard_args(user_id, limit)
    return list(session.execute(_DASHBOARD_EXECUTIONS, params).scalars())


def get_workflow_execution_history(
    session: Session,
    user_id: uuid.UUID | str,
    workflow_id: uuid.UUID | str,
    *,
    status: str | None = None,
    limit: int = 50,
    before: HistoryCursor | None = None,
) -> list[WorkflowExecution]:
    """One page of a workflow's runs, newest first; `before=cursor_of(page[-1])` for the next."""
    stmt, params = _workflow_history(user_id, workflow_id, status, limit, before)
    return list(session.execute(stmt, params).scalars())


def get_agent_execution_history(
    session: Session,
    user_id: uuid.UUID | str,
    agent_id: uuid.UUID | str,
    *,
    limit: int = 50,
    before: HistoryCursor | None = None,
) -> list[AgentExecution]:
    """One page of an agent's runs, newest first; `before=cursor_of(page[-1])` for the next."""
    stmt, params = _agent_history(user_id, agent_id, limit, before)
    return list(session.execute(stmt, params).scalars())


def get_session_executions(
    session: Session, session_id: str, *, status: str | None = None
) -> list[AgentExecution]:
    """The agent executions of one chat session, oldest first."""
    stmt, params = _session_executions(session_id, status)
    return list(session.execute(stmt, params).scalars())


@dataclass(frozen=True, slots=True)
class StaleExecutions:
    """Executions still 'running' longer than the cutoff, oldest first (each list up to limit)."""

    workflow_executions: list[WorkflowExecution]
    agent_executions: list[AgentExecution]


def get_stale_running_executions(
    session: Session, *, older_than: timedelta = timedelta(hours=1), limit: int = 100
) -> StaleExecutions:
    """Workflow and agent executions 'running' for longer than `older_than` (UTC)."""
    params = _stale_args(older_than, limit)
    return StaleExecutions(
        workflow_executions=list(session.execute(_STALE_WORKFLOW, params).scalars()),
        agent_executions=list(session.execute(_STALE_AGENT, params).scalars()),
    )


def find_agents(
    session: Session,
    *,
    llm_provider: str | None = None,
    llm_model: str | None = None,
    config_contains: Mapping[str, Any] | None = None,
    user_id: uuid.UUID | str | None = None,
    limit: int = 100,
) -> list[Agent]:
    """Agents matching every given criterion, by (name, id); config_contains is `@>`."""
    stmt, params = _find_agents_args(llm_provider, llm_model, config_contains, user_id, limit)
    return list(session.execute(stmt, params).scalars())


def find_workflows_with_node_type(
    session: Session, node_type: str, *, user_id: uuid.UUID | str | None = None, limit: int = 100
) -> list[Workflow]:
    """Workflows whose graph_definition has a node of `node_type`, by (name, id)."""
    stmt, params = _node_type_args(node_type, user_id, limit)
    return list(session.execute(stmt, params).scalars())


def get_workflow_document(session: Session, workflow_id: uuid.UUID | str) -> dict[str, Any] | None:
    """agentdb.workflow_document: the workflow, owner, blocks, edges and agents as one dict."""
    params = _workflow_with_relations_args(workflow_id)
    document: dict[str, Any] | None = session.execute(_WORKFLOW_DOCUMENT, params).scalar_one()
    return document


def get_agent_document(session: Session, agent_id: uuid.UUID | str) -> dict[str, Any] | None:
    """agentdb.agent_document: the agent, owner, tools and knowledgebases as one dict."""
    params = _agent_with_relations_args(agent_id)
    document: dict[str, Any] | None = session.execute(_AGENT_DOCUMENT, params).scalar_one()
    return document
