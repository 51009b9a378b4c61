"""The ids and parameters every scenario uses, read once from the baseline database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from pyglue.bench import output
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

    def one(name: str, **params: Any) -> Any:
        return connection.execute(text(output.sql(name)), params).one_or_none()

    workflow, agent = dataset.busiest_workflow_id, dataset.busiest_agent_id
    # the histories' users: whoever ran the busiest workflow (agent) most
    history_user, history_rows = one("context_history_user", w=workflow)
    (agent_user,) = one("context_agent_user", a=agent)
    deep_page = DEEP_PAGE if history_rows > (DEEP_PAGE + 1) * HISTORY_PAGE_SIZE else 1
    off = deep_page * HISTORY_PAGE_SIZE - 1
    cursor = one("context_deep_cursor", u=history_user, w=workflow, off=off)
    provider, provider_agents = one("context_provider")
    node_type, node_type_workflows = one("context_node_type")
    config, graph = one("context_texts", a=dataset.sample_agent_id, w=dataset.sample_workflow_id)
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
