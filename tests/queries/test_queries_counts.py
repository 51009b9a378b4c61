"""Statement counts of the query helpers do not grow with the data (N+1 impossible).

Counts come from pyglue.monitoring.count_queries;
every relationship a helper promises is then touched with the recorder still
open, so a hidden lazy load would show up as an extra statement (or raise).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from factories import (
    add_agent,
    add_agent_executions,
    add_user,
    add_workflow,
    add_workflow_executions,
)
from sqlalchemy import Engine, Select, event
from sqlalchemy.orm import ORMExecuteState, Session

from pyglue import queries
from pyglue.monitoring import count_queries


@pytest.mark.parametrize("blocks", [1, 20, 200])
def test_workflow_helper_runs_three_statements_whatever_the_size(
    engine: Engine, blocks: int
) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=blocks)
    with Session(engine) as session, count_queries(engine) as counted:
        workflow = queries.get_workflow_with_relations(session, workflow_id)
        assert workflow is not None
        assert workflow.owner.id == owner
        assert len(workflow.blocks) == blocks
        assert len(workflow.edges) == blocks - 1
        agents = {b.agent.id for b in workflow.blocks if b.agent is not None}
        assert len(agents) == min(blocks, 5)
    # workflow + owner (joined), blocks + their agents (joined), edges
    assert counted.count == 3


@pytest.mark.parametrize("size", [1, 50, 500])
def test_agent_helper_runs_one_statement_whatever_the_size(engine: Engine, size: int) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner, tools=size, knowledgebases=size)
    with Session(engine) as session, count_queries(engine) as counted:
        agent = queries.get_agent_with_relations(session, agent_id)
        assert agent is not None
        assert agent.owner.id == owner
        assert len(agent.tools) == size
        assert len(agent.knowledgebases) == size
    # agent + owner, tools and knowledgebases: one statement, tools + knowledgebases rows
    assert counted.count == 1


@pytest.mark.parametrize("executions", [1, 50, 500])
def test_dashboard_runs_one_statement_whatever_the_size(engine: Engine, executions: int) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agents = [add_agent(conn, owner, name=f"a{i}") for i in range(3)]
        for agent_id in agents:
            add_agent_executions(conn, owner, agent_id, executions)
    with Session(engine) as session, count_queries(engine) as counted:
        rows = queries.get_dashboard_executions_optimized(session, owner, limit=1000)
        assert len(rows) == min(3 * executions, 1000)
        assert {r.agent.id for r in rows} == set(agents)
        assert all(r.metrics is not None and r.metrics.total_tokens == 300 for r in rows)
    # executions + agent + metrics in one joined statement (both to-one)
    assert counted.count == 1


@pytest.mark.parametrize("executions", [1, 50, 500])
def test_each_history_page_is_one_statement(engine: Engine, executions: int) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=2)
        agent_id = add_agent(conn, owner)
        add_workflow_executions(conn, owner, workflow_id, executions)
        add_agent_executions(conn, owner, agent_id, executions)
    pages = 0
    with Session(engine) as session:
        for status in (None, "completed"):
            before = None
            while True:
                with count_queries(engine) as counted:
                    page = queries.get_workflow_execution_history(
                        session, owner, workflow_id, status=status, limit=20, before=before
                    )
                assert counted.count == 1
                pages += 1
                if len(page) < 20:
                    break
                before = queries.cursor_of(page[-1])
        before = None
        while True:
            with count_queries(engine) as counted:
                agent_page = queries.get_agent_execution_history(
                    session, owner, agent_id, limit=20, before=before
                )
            assert counted.count == 1
            pages += 1
            if len(agent_page) < 20:
                break
            before = queries.cursor_of(agent_page[-1])
    assert pages >= 3


def test_other_helpers_statement_counts(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=20)
        agent_id = add_agent(conn, owner, configuration={"llm_provider": "ollama"}, tools=5)
        add_agent_executions(conn, owner, agent_id, 30, session_id="s-1", minutes_apart=10)
        add_workflow_executions(conn, owner, workflow_id, 30, minutes_apart=10)
    with Session(engine) as session:
        cases = {
            "session": (lambda: queries.get_session_executions(session, "s-1"), 1),
            "session+status": (
                lambda: queries.get_session_executions(session, "s-1", status="running"),
                1,
            ),
            "stale": (
                lambda: queries.get_stale_running_executions(session, older_than=timedelta(0, 1)),
                2,
            ),
            "find_agents": (lambda: queries.find_agents(session, llm_provider="ollama"), 1),
            "node_type": (lambda: queries.find_workflows_with_node_type(session, "agent"), 1),
            "workflow_document": (lambda: queries.get_workflow_document(session, workflow_id), 1),
            "agent_document": (lambda: queries.get_agent_document(session, agent_id), 1),
            "missing workflow": (
                lambda: queries.get_workflow_with_relations(session, uuid.uuid4()),
                1,
            ),
        }
        counts = {}
        for name, (call, _) in cases.items():
            with count_queries(engine) as counted:
                call()
            counts[name] = counted.count
    assert counts == {name: expected for name, (_, expected) in cases.items()}


def test_every_statement_built_at_import_has_a_cache_key() -> None:
    """A statement without one (a VALUES list has none) is compiled again on every call: that
    made the agent helper slower than the baseline's lazy loads."""
    built = [
        (name, statement)
        for name, value in vars(queries).items()
        for statement in (value if isinstance(value, tuple | list) else [value])
        if isinstance(statement, Select)
    ]
    assert len(built) >= 5
    assert [name for name, statement in built if statement._generate_cache_key() is None] == []


def test_helpers_execute_the_statements_built_at_import(engine: Engine) -> None:
    """No statement is rebuilt per call: the ORM receives the same object every time."""
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=2)
        agent_id = add_agent(conn, owner)
    calls: list[Callable[[Session], object]] = [
        lambda s: queries.get_workflow_with_relations(s, workflow_id),
        lambda s: queries.get_agent_with_relations(s, agent_id),
        lambda s: queries.get_dashboard_executions_optimized(s, owner),
        lambda s: queries.get_workflow_execution_history(s, owner, workflow_id, status="failed"),
        lambda s: queries.get_agent_execution_history(s, owner, agent_id),
        lambda s: queries.get_session_executions(s, "s"),
        lambda s: queries.get_stale_running_executions(s),
        lambda s: queries.find_agents(s, llm_provider="openai", user_id=owner),
        lambda s: queries.find_workflows_with_node_type(s, "agent"),
        lambda s: queries.get_workflow_document(s, workflow_id),
    ]
    with Session(engine) as session:
        seen: list[object] = []

        @event.listens_for(session, "do_orm_execute")
        def record(state: ORMExecuteState) -> None:
            # selectinload's own statements are SQLAlchemy's (cached by it)
            if not state.is_relationship_load:
                seen.append(state.statement)

        for call in calls:
            seen.clear()
            call(session)
            first = list(seen)
            seen.clear()
            call(session)
            assert first
            assert all(a is b for a, b in zip(first, seen, strict=True))
