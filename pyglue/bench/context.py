"""The ids and parameters every scenario uses, read once from the baseline database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from pyglue.bench.baseline import dashboard_since
from pyglue.bench.datagen import Dataset

HISTORY_PAGE_SIZE = 50
DEEP_PAGE = 20  # the 21st page: OFFSET 1000 at baseline, a keyset cursor at head
DASHBOARD_DAYS = 30
SEARCH_LIMIT = 20  # one page of search results in the UI


@dataclass(frozen=True)
class Context:
    sample_workflow_id: uuid.UUID  # about 20 blocks, some with agents
    sample_agent_id: uuid.UUID
    dashboard_user_id: uuid.UUID
    dashboard_days: int
    dashboard_since: datetime
    history_user_id: uuid.UUID
    history_workflow_id: uuid.UUID
    history_rows: int
    deep_page: int
    deep_cursor: tuple[datetime, uuid.UUID] | None
    agent_history_user_id: uuid.UUID
    agent_history_agent_id: uuid.UUID
    provider: str
    provider_agents: int
    node_type: str
    node_type_workflows: int
    config_separator: str
    graph_separator: str
    search_limit: int

    def describe(self) -> dict[str, Any]:
        return {key: str(value) for key, value in self.__dict__.items()}


def _separator(sample: str, key: str) -> str:
    """How the stored json text writes `"key": value` (json keeps the text verbatim)."""
    return next((sep for sep in (": ", " : ", ":") if f'"{key}"{sep}' in sample), ": ")


def resolve(connection: Connection, dataset: Dataset) -> Context:
    """The scenario parameters: the dataset's ids, and what they imply, from the baseline."""

    def one(sql: str, **params: Any) -> Any:
        return connection.execute(text(sql), params).one_or_none()

    workflow, agent = dataset.busiest_workflow_id, dataset.busiest_agent_id
    most = "GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1"
    # the histories' users: whoever ran the busiest workflow (agent) most
    history_user, history_rows = one(
        f"SELECT user_id, count(*) FROM workflow_executions WHERE workflow_id = :w {most}",
        w=workflow,
    )
    (agent_user,) = one(f"SELECT user_id FROM agent_executions WHERE agent_id = :a {most}", a=agent)
    deep_page = DEEP_PAGE if history_rows > (DEEP_PAGE + 1) * HISTORY_PAGE_SIZE else 1
    cursor = one(
        "SELECT started_at, id FROM workflow_executions WHERE user_id = :u AND workflow_id = :w"
        " ORDER BY started_at DESC, id DESC OFFSET :off LIMIT 1",
        u=history_user, w=workflow, off=deep_page * HISTORY_PAGE_SIZE - 1,
    )  # fmt: skip
    # the rarest provider and node type that still match something: a selective search
    provider, provider_agents = one(
        "SELECT configuration ->> 'llm_provider', count(*) FROM agents WHERE"
        " configuration ->> 'llm_provider' IS NOT NULL GROUP BY 1 ORDER BY count(*), 1 LIMIT 1"
    )
    node_type, node_type_workflows = one(
        "SELECT t, count(DISTINCT w.id) FROM workflows w, LATERAL (SELECT DISTINCT"
        "   n ->> 'type' AS t FROM json_array_elements(w.graph_definition -> 'nodes') n) x"
        " WHERE t IS NOT NULL GROUP BY t ORDER BY count(DISTINCT w.id), t LIMIT 1"
    )
    (config,) = one(
        "SELECT configuration::text FROM agents WHERE id = :a", a=dataset.sample_agent_id
    )
    (graph,) = one(
        "SELECT graph_definition::text FROM workflows WHERE id = :w", w=dataset.sample_workflow_id
    )
    return Context(
        sample_workflow_id=dataset.sample_workflow_id, sample_agent_id=dataset.sample_agent_id,
        dashboard_user_id=dataset.heaviest_user_id, dashboard_days=DASHBOARD_DAYS,
        dashboard_since=dashboard_since(DASHBOARD_DAYS), history_user_id=history_user,
        history_workflow_id=workflow, history_rows=history_rows, deep_page=deep_page,
        deep_cursor=None if cursor is None else (cursor[0], cursor[1]),
        agent_history_user_id=agent_user, agent_history_agent_id=agent, provider=provider,
        provider_agents=provider_agents, node_type=node_type,
        node_type_workflows=node_type_workflows, search_limit=SEARCH_LIMIT,
        config_separator=_separator(config, "llm_provider"),
        graph_separator=_separator(graph, "type"),
    )  # fmt: skip
