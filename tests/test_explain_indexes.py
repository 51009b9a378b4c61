"""The performance plan's query patterns use their intended index at head (about 100k runs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from plans import explain, explain_generic

from pyglue.bench.datagen import Dataset
from pyglue.dburl import libpq_dsn, resolve_url

WORKFLOW_HISTORY = (
    "SELECT * FROM workflow_executions WHERE user_id = $1 AND workflow_id = $2"
    " AND status = 'completed' ORDER BY started_at DESC LIMIT 50"
)
AGENT_HISTORY = (
    "SELECT * FROM agent_executions WHERE user_id = $1 AND agent_id = $2"
    " ORDER BY started_at DESC LIMIT 50"
)


@pytest.fixture(scope="module")
def conn(populated_head_readonly_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(libpq_dsn(resolve_url(populated_head_readonly_url)), autocommit=True) as c:
        yield c


def _psycopg(query: str) -> str:
    return query.replace("$1", "%s").replace("$2", "%s")


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
def test_workflow_history_is_an_ordered_scan_of_the_composite_index(
    conn: psycopg.Connection[Any], populated_dataset: Dataset, generic: bool
) -> None:
    params = (populated_dataset.heaviest_user_id, populated_dataset.busiest_workflow_id)
    plan = (
        explain_generic(conn, WORKFLOW_HISTORY, ["uuid", "uuid"], params)
        if generic
        else explain(conn, _psycopg(WORKFLOW_HISTORY), params)
    )
    assert plan.indexes == {"ix_workflow_exec_user_workflow_status"}, plan
    assert "Sort" not in plan.node_types, plan
    # the status is an index condition: other statuses cost no heap visit
    assert not any("Filter" in node for node in plan.nodes), plan


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
def test_agent_history_is_an_ordered_scan_of_the_composite_index(
    conn: psycopg.Connection[Any], populated_dataset: Dataset, generic: bool
) -> None:
    params = (populated_dataset.heaviest_user_id, populated_dataset.busiest_agent_id)
    plan = (
        explain_generic(conn, AGENT_HISTORY, ["uuid", "uuid"], params)
        if generic
        else explain(conn, _psycopg(AGENT_HISTORY), params)
    )
    assert plan.indexes == {"ix_agent_exec_user_agent_started"}, plan
    assert "Sort" not in plan.node_types, plan


@pytest.mark.parametrize(
    ("table", "index"),
    [
        ("workflow_executions", "ix_workflow_exec_status_started"),
        ("agent_executions", "ix_agent_exec_status_started"),
    ],
)
def test_stale_running_check_uses_the_partial_index(
    conn: psycopg.Connection[Any], table: str, index: str
) -> None:
    plan = explain(
        conn,
        f"SELECT * FROM {table} WHERE status = 'running'"
        " AND started_at < now() - interval '1 hour'",
    )
    assert plan.indexes == {index}, plan
    size = conn.execute("SELECT pg_relation_size(%s)", (index,)).fetchone()
    total = conn.execute("SELECT pg_relation_size(%s)", (table,)).fetchone()
    assert size is not None
    assert total is not None
    assert size[0] * 50 < total[0]  # unfinished rows only: tiny beside the table


def test_session_executions_use_session_status_index(
    conn: psycopg.Connection[Any], populated_dataset: Dataset
) -> None:
    plan = explain(
        conn,
        "SELECT * FROM agent_executions WHERE session_id = %s AND status = 'completed'",
        (populated_dataset.busy_session_id,),
    )
    assert plan.indexes == {"ix_agent_exec_session_status"}, plan


def test_dashboard_range_uses_user_started_index(
    conn: psycopg.Connection[Any], populated_dataset: Dataset
) -> None:
    plan = explain(
        conn,
        "SELECT count(*), avg(duration_ms) FROM agent_executions"
        " WHERE user_id = %s AND started_at >= timezone('utc', now()) - interval '30 days'",
        (populated_dataset.heaviest_user_id,),
    )
    assert plan.indexes == {"ix_agent_exec_user_started"}, plan


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
def test_json_search_forms_use_an_index(
    conn: psycopg.Connection[Any], query: str, index: str
) -> None:
    plan = explain(conn, query)
    assert plan.indexes == {index}, plan
