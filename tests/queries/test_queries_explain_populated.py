"""The helpers' statements use their indexes on the shared populated database (datagen, ~100k runs).

The same checks as test_queries_explain.py, on pyglue.bench.datagen's skewed
data (the heaviest user, the busiest workflow and agent), which the benchmark
times: the helpers' real statements, in the default plan and, for history,
dashboard and stale pages, in the generic plan of psycopg's prepared mode.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from plans import capture, history_page_scan, indexes, plan_nodes, sorts
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pyglue import queries
from pyglue.bench.datagen import Dataset
from pyglue.dburl import create_engine_for

GENERIC = [False, True]
GENERIC_IDS = ["default", "generic"]


@pytest.fixture(scope="module")
def engine(populated_head_readonly_url: str) -> Iterator[Engine]:
    eng = create_engine_for(populated_head_readonly_url)
    try:
        yield eng
    finally:
        eng.dispose()


def _pages(
    fetch: Callable[[Session, queries.HistoryCursor | None], list[object]],
) -> Callable[[Session], object]:
    """The first page, then the page after its last row."""

    def call(session: Session) -> None:
        page = fetch(session, None)
        assert len(page) == 50
        fetch(session, queries.cursor_of(page[-1]))  # type: ignore[arg-type]

    return call


@pytest.mark.parametrize("generic", GENERIC, ids=GENERIC_IDS)
@pytest.mark.parametrize("status", [None, "completed", "failed"])
def test_workflow_history_pages(
    engine: Engine, populated_dataset: Dataset, status: str | None, generic: bool
) -> None:
    user, workflow = populated_dataset.heaviest_user_id, populated_dataset.busiest_workflow_id
    captured = capture(
        engine,
        _pages(
            lambda s, before: list(
                queries.get_workflow_execution_history(
                    s, user, workflow, status=status, before=before
                )
            )
        ),
    )
    assert len(captured) == 2
    for statement, parameters in captured:
        nodes = plan_nodes(engine, statement, parameters, generic=generic)
        history_page_scan(nodes, "ix_workflow_exec_user_workflow_status")


@pytest.mark.parametrize("generic", GENERIC, ids=GENERIC_IDS)
def test_agent_history_pages(engine: Engine, populated_dataset: Dataset, generic: bool) -> None:
    user, agent = populated_dataset.heaviest_user_id, populated_dataset.busiest_agent_id
    captured = capture(
        engine,
        _pages(
            lambda s, before: list(
                queries.get_agent_execution_history(s, user, agent, before=before)
            )
        ),
    )
    for statement, parameters in captured:
        nodes = plan_nodes(engine, statement, parameters, generic=generic)
        history_page_scan(nodes, "ix_agent_exec_user_agent_started")


@pytest.mark.parametrize("generic", GENERIC, ids=GENERIC_IDS)
def test_dashboard(engine: Engine, populated_dataset: Dataset, generic: bool) -> None:
    [captured] = capture(
        engine,
        lambda s: queries.get_dashboard_executions_optimized(s, populated_dataset.heaviest_user_id),
    )
    nodes = plan_nodes(engine, *captured, generic=generic)
    assert "ix_agent_exec_user_started" in indexes(nodes)
    assert sorts(nodes) == []


@pytest.mark.parametrize("generic", GENERIC, ids=GENERIC_IDS)
def test_stale_running(engine: Engine, generic: bool) -> None:
    captured = capture(
        engine,
        lambda s: queries.get_stale_running_executions(s, older_than=timedelta(hours=1)),
    )
    used = [indexes(plan_nodes(engine, *c, generic=generic)) for c in captured]
    assert used == [{"ix_workflow_exec_status_started"}, {"ix_agent_exec_status_started"}]


def test_workflow_and_agent_helpers(engine: Engine, populated_dataset: Dataset) -> None:
    workflow = capture(
        engine,
        lambda s: queries.get_workflow_with_relations(s, populated_dataset.sample_workflow_id),
    )
    agent = capture(
        engine,
        lambda s: queries.get_agent_with_relations(s, populated_dataset.sample_agent_id),
    )
    for captured, expected in (
        (
            workflow,
            {"pk_workflows", "ix_agent_blocks_workflow_id", "ix_workflow_edges_workflow_id"},
        ),
        (agent, {"pk_agents", "pk_agent_knowledgebases", "ix_agent_tools_agent_id"}),
    ):
        used = [indexes(plan_nodes(engine, *c, generic=False)) for c in captured]
        assert len(used) == (3 if captured is workflow else 1)  # the agent: one statement
        assert set().union(*used) & expected == expected


SEARCHES: dict[str, tuple[Callable[[Session], object], str]] = {
    "session": (
        lambda s: queries.get_session_executions(s, "session-1"),
        "ix_agent_exec_session_status",
    ),
    "provider": (lambda s: queries.find_agents(s, llm_provider="ollama"), "ix_agents_llm_provider"),
    "model": (lambda s: queries.find_agents(s, llm_model="llama3.1:8b"), "ix_agents_llm_model"),
    "contains": (
        lambda s: queries.find_agents(s, config_contains={"llm_provider": "mistral"}),
        "ix_agents_config_gin",
    ),
    "node type": (
        lambda s: queries.find_workflows_with_node_type(s, "human_review"),
        "ix_workflows_graph_gin",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SEARCHES))
def test_searches(engine: Engine, case: str) -> None:
    call, index = SEARCHES[case]
    [captured] = capture(engine, call)
    assert index in indexes(plan_nodes(engine, *captured, generic=False))


def test_documents_of_the_sample_rows(engine: Engine, populated_dataset: Dataset) -> None:
    with Session(engine) as session:
        workflow = queries.get_workflow_document(session, populated_dataset.sample_workflow_id)
        agent = queries.get_agent_document(session, populated_dataset.sample_agent_id)
        missing = queries.get_agent_document(session, uuid.uuid4())
    assert workflow is not None
    assert len(workflow["blocks"]) == populated_dataset.scale.blocks_per_workflow
    assert agent is not None
    assert agent["id"] == str(populated_dataset.sample_agent_id)
    assert missing is None
