"""The statement builders on an AsyncSession (psycopg async) run the helpers' statements."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from factories import (
    add_agent,
    add_agent_executions,
    add_user,
    add_workflow,
    add_workflow_executions,
)
from sqlalchemy import Engine, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from pyglue import queries
from pyglue.dburl import create_async_engine_for, create_engine_for
from pyglue.monitoring import count_queries


@pytest.fixture
def data(head_url: str) -> tuple[str, dict[str, uuid.UUID]]:
    engine = create_engine_for(head_url)
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=20)
        agent_id = add_agent(
            conn, owner, configuration={"llm_provider": "ollama"}, tools=3, knowledgebases=2
        )
        add_agent_executions(conn, owner, agent_id, 40, session_id="s-1", minutes_apart=5)
        add_workflow_executions(conn, owner, workflow_id, 40, minutes_apart=5)
    engine.dispose()
    return head_url, {"owner": owner, "workflow": workflow_id, "agent": agent_id}


def _cases(
    ids: dict[str, uuid.UUID],
) -> dict[str, tuple[Callable[[Session], Any], Callable[[], Select[Any]], Callable[[Any], Any]]]:
    """name -> (sync helper, builder, how to compare a result)."""
    owner, workflow, agent = ids["owner"], ids["workflow"], ids["agent"]
    older = timedelta(minutes=30)

    def row_ids(rows: Any) -> list[uuid.UUID]:
        return [r.id for r in rows]

    return {
        "workflow": (
            lambda s: queries.get_workflow_with_relations(s, workflow),
            lambda: queries.workflow_with_relations_stmt(workflow),
            lambda w: (w.id, row_ids(w.blocks), row_ids(w.edges), w.owner.id,
                       [b.agent.id if b.agent else None for b in w.blocks]),
        ),
        "agent": (
            lambda s: queries.get_agent_with_relations(s, agent),
            lambda: queries.agent_with_relations_stmt(agent),
            lambda a: (a.id, row_ids(a.tools), row_ids(a.knowledgebases), a.owner.id),
        ),
        "dashboard": (
            lambda s: queries.get_dashboard_executions_optimized(s, owner, 10),
            lambda: queries.dashboard_executions_stmt(owner, 10),
            lambda rows: [(r.id, r.agent.id, r.metrics.total_tokens) for r in rows],
        ),
        "workflow history": (
            lambda s: queries.get_workflow_execution_history(s, owner, workflow, status="failed"),
            lambda: queries.workflow_execution_history_stmt(owner, workflow, status="failed"),
            row_ids,
        ),
        "agent history": (
            lambda s: queries.get_agent_execution_history(s, owner, agent, limit=5),
            lambda: queries.agent_execution_history_stmt(owner, agent, limit=5),
            row_ids,
        ),
        "session": (
            lambda s: queries.get_session_executions(s, "s-1", status="running"),
            lambda: queries.session_executions_stmt("s-1", status="running"),
            row_ids,
        ),
        "stale agents": (
            lambda s: queries.get_stale_running_executions(s, older_than=older).agent_executions,
            lambda: queries.stale_agent_executions_stmt(older_than=older),
            row_ids,
        ),
        "stale workflows": (
            lambda s: queries.get_stale_running_executions(s, older_than=older).workflow_executions,
            lambda: queries.stale_workflow_executions_stmt(older_than=older),
            row_ids,
        ),
        "find agents": (
            lambda s: queries.find_agents(s, llm_provider="ollama", user_id=owner),
            lambda: queries.find_agents_stmt(llm_provider="ollama", user_id=owner),
            row_ids,
        ),
        "node type": (
            lambda s: queries.find_workflows_with_node_type(s, "agent"),
            lambda: queries.find_workflows_with_node_type_stmt("agent"),
            row_ids,
        ),
        "workflow document": (
            lambda s: queries.get_workflow_document(s, workflow),
            lambda: queries.workflow_document_stmt(workflow),
            lambda d: d,
        ),
    }  # fmt: skip


SINGLE = {"workflow", "agent", "workflow document"}


def test_async_session_runs_the_same_statements_with_the_same_results(
    data: tuple[str, dict[str, uuid.UUID]],
) -> None:
    url, ids = data
    cases = _cases(ids)

    sync_engine = create_engine_for(url)
    sync_results: dict[str, tuple[list[str], Any]] = {}
    with Session(sync_engine) as session:
        for name, (helper, _, compare) in cases.items():
            with count_queries(sync_engine) as counted:
                result = compare(helper(session))
            sync_results[name] = (counted.statements, result)
    sync_engine.dispose()

    async def run_async() -> dict[str, tuple[list[str], Any]]:
        engine = create_async_engine_for(url)
        out: dict[str, tuple[list[str], Any]] = {}
        try:
            async with AsyncSession(engine) as session:
                for name, (_, builder, compare) in cases.items():
                    with count_queries(engine) as counted:
                        result = await session.execute(builder())
                        value = (
                            result.unique().scalar_one_or_none()
                            if name in SINGLE
                            else list(result.scalars())
                        )
                        compared = compare(value)
                    out[name] = (counted.statements, compared)
        finally:
            await engine.dispose()
        return out

    async_results = asyncio.run(run_async())
    assert async_results.keys() == sync_results.keys()
    for name, (statements, result) in sync_results.items():
        if name.startswith("stale"):
            # the helper runs one statement per table, each builder one of them
            assert len(statements) == 2
            table = "agent_executions" if name == "stale agents" else "workflow_executions"
            statements = [s for s in statements if f"FROM {table}" in s]
        assert async_results[name] == (statements, result), name
    # the data exercised every helper
    assert all(result for _, result in sync_results.values())


def test_builders_validate_like_the_helpers() -> None:
    with pytest.raises(ValueError, match=r"^workflow_id must be a UUID"):
        queries.workflow_with_relations_stmt("nope")
    with pytest.raises(ValueError, match=r"^limit must be an integer from 1 to 1000"):
        queries.find_workflows_with_node_type_stmt("agent", limit=1001)


def test_builders_return_the_cached_statement_shape(engine: Engine) -> None:
    built = queries.workflow_execution_history_stmt(uuid.uuid4(), uuid.uuid4(), limit=7)
    compiled = built.compile(engine)
    assert compiled.params["limit"] == 7
    assert "ORDER BY workflow_executions.started_at DESC, workflow_executions.id DESC" in str(
        compiled
    )
