"""The performance plan's query patterns use their intended index at head (about 100k runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from plans import indexes, plan_nodes, small_sorts_only
from sqlalchemy import Engine, create_engine

from pyglue.bench.datagen import Dataset

WORKFLOW_HISTORY = (
    "SELECT * FROM workflow_executions WHERE user_id = %(user)s AND workflow_id = %(workflow)s"
    " AND status = 'completed' ORDER BY started_at DESC LIMIT 50"
)
AGENT_HISTORY = (
    "SELECT * FROM agent_executions WHERE user_id = %(user)s AND agent_id = %(agent)s"
    " ORDER BY started_at DESC LIMIT 50"
)
MODES = pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])


@pytest.fixture(scope="module")
def engine(populated_head_readonly_url: str) -> Iterator[Engine]:
    eng = create_engine(populated_head_readonly_url)
    yield eng
    eng.dispose()


@MODES
def test_workflow_history_is_an_ordered_scan_of_the_composite_index(
    engine: Engine, populated_dataset: Dataset, generic: bool
) -> None:
    params = {
        "user": populated_dataset.heaviest_user_id,
        "workflow": populated_dataset.busiest_workflow_id,
    }
    nodes = plan_nodes(engine, WORKFLOW_HISTORY, params, generic=generic)
    assert indexes(nodes) == {"ix_workflow_exec_user_workflow_status"}, nodes
    assert small_sorts_only(nodes), nodes
    # the status is an index condition: other statuses cost no heap visit
    assert not any("Filter" in node for node in nodes), nodes


@MODES
def test_agent_history_is_an_ordered_scan_of_the_composite_index(
    engine: Engine, populated_dataset: Dataset, generic: bool
) -> None:
    params = {
        "user": populated_dataset.heaviest_user_id,
        "agent": populated_dataset.busiest_agent_id,
    }
    nodes = plan_nodes(engine, AGENT_HISTORY, params, generic=generic)
    assert indexes(nodes) == {"ix_agent_exec_user_agent_started"}, nodes
    assert small_sorts_only(nodes), nodes


@pytest.mark.parametrize(
    ("table", "index"),
    [
        ("workflow_executions", "ix_workflow_exec_status_started"),
        ("agent_executions", "ix_agent_exec_status_started"),
    ],
)
def test_stale_running_check_uses_the_partial_index(engine: Engine, table: str, index: str) -> None:
    query = (
        f"SELECT * FROM {table} WHERE status = 'running' AND started_at < now() - interval '1 hour'"
    )
    nodes = plan_nodes(engine, query, {}, generic=False)
    assert indexes(nodes) == {index}, nodes
    with engine.connect() as conn:
        index_size, table_size = conn.exec_driver_sql(
            # partitioned (0016): the sizes of all their partitions
            "SELECT (SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree(%(index)s)),"
            " (SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree(%(table)s))",
            {"index": index, "table": table},
        ).one()
    assert index_size * 50 < table_size  # unfinished rows only: tiny beside the table


def test_session_executions_use_session_status_index(
    engine: Engine, populated_dataset: Dataset
) -> None:
    query = "SELECT * FROM agent_executions WHERE session_id = %(session)s AND status = 'completed'"
    nodes = plan_nodes(engine, query, {"session": populated_dataset.busy_session_id}, generic=False)
    assert indexes(nodes) == {"ix_agent_exec_session_status"}, nodes


def test_dashboard_range_uses_user_started_index(
    engine: Engine, populated_dataset: Dataset
) -> None:
    query = (
        "SELECT count(*), avg(duration_ms) FROM agent_executions WHERE user_id = %(user)s"
        " AND started_at >= timezone('utc', now()) - interval '30 days'"
    )
    nodes = plan_nodes(engine, query, {"user": populated_dataset.heaviest_user_id}, generic=False)
    assert indexes(nodes) == {"ix_agent_exec_user_started"}, nodes


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("SELECT * FROM agents WHERE configuration->>'llm_provider' = 'ollama'",
         "ix_agents_llm_provider"),
        ("SELECT * FROM agents WHERE configuration->>'llm_model' = 'qwen2.5:14b'",
         "ix_agents_llm_model"),
        ("""SELECT * FROM agents WHERE configuration @> '{"llm_provider":"ollama"}'""",
         "ix_agents_config_gin"),
        ("""SELECT * FROM workflows WHERE graph_definition @> '{"nodes":[{"type":"agent"}]}'""",
         "ix_workflows_graph_gin"),
    ],
    ids=["provider-expression", "model-expression", "config-containment", "graph-node-type"],
)  # fmt: skip
def test_json_search_forms_use_an_index(engine: Engine, query: str, index: str) -> None:
    nodes = plan_nodes(engine, query, {}, generic=False)
    assert indexes(nodes) == {index}, nodes
