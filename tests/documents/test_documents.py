"""agentdb.workflow_document and agent_document: the ORM helpers' content, grants, migration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from factories import add_agent, add_user, add_workflow
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from pyglue import install, queries
from pyglue.models import Agent, Workflow

FUNCTIONS = ("agentdb.workflow_document(uuid)", "agentdb.agent_document(uuid)")


@pytest.fixture
def engine(head_url: str) -> Iterator[Engine]:
    eng = create_engine(head_url)
    try:
        yield eng
    finally:
        eng.dispose()


def _columns(obj: Any) -> dict[str, Any]:
    """An ORM object's columns as to_jsonb writes them (timestamps compared as datetimes)."""
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, Decimal):
            value = float(value)
        out[attr.columns[0].name] = value
    return out


def _parse_timestamps(value: Any) -> Any:
    """to_jsonb writes timestamps as ISO strings with trailing zeros trimmed: parse them."""
    if isinstance(value, dict):
        return {
            k: datetime.fromisoformat(v) if k.endswith("_at") and isinstance(v, str) else
            _parse_timestamps(v)
            for k, v in value.items()
        }  # fmt: skip
    if isinstance(value, list):
        return [_parse_timestamps(v) for v in value]
    return value


def workflow_as_document(workflow: Workflow) -> dict[str, Any]:
    """What get_workflow_with_relations loaded, in the shape of agentdb.workflow_document."""
    return {
        **_columns(workflow),
        "owner": _columns(workflow.owner),
        "blocks": [_columns(b) for b in workflow.blocks],
        "edges": [_columns(e) for e in workflow.edges],
        "agents": {str(b.agent.id): _columns(b.agent) for b in workflow.blocks if b.agent},
    }


def agent_as_document(agent: Agent) -> dict[str, Any]:
    """What get_agent_with_relations loaded, in the shape of agentdb.agent_document."""
    return {
        **_columns(agent),
        "owner": _columns(agent.owner),
        "tools": [_columns(t) for t in agent.tools],
        "knowledgebases": [_columns(k) for k in agent.knowledgebases],
    }


@pytest.mark.parametrize("blocks", [1, 20])
def test_workflow_document_equals_the_orm_helper(engine: Engine, blocks: int) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=blocks)
        add_workflow(conn, owner, blocks=3)  # another workflow that must not leak in
    with Session(engine) as session:
        workflow = queries.get_workflow_with_relations(session, workflow_id)
        assert workflow is not None
        document = queries.get_workflow_document(session, workflow_id)
        assert document is not None
        assert _parse_timestamps(document) == workflow_as_document(workflow)
        assert len(document["blocks"]) == blocks
        assert len(document["agents"]) == min(blocks, 5)


def test_agent_document_equals_the_orm_helper(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(
            conn,
            owner,
            configuration={"llm_provider": "ollama", "temperature": 0.25, "tags": ["a", "b"]},
            tools=7,
            knowledgebases=3,
        )
        add_agent(conn, owner, tools=2, knowledgebases=1)
    with Session(engine) as session:
        agent = queries.get_agent_with_relations(session, agent_id)
        assert agent is not None
        document = queries.get_agent_document(session, str(agent_id))
        assert _parse_timestamps(document) == agent_as_document(agent)
        assert document is not None
        assert document["configuration"]["temperature"] == 0.25


def test_documents_of_empty_and_missing_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner)
        workflow_id = uuid.uuid4()
        conn.execute(
            text(
                "INSERT INTO workflows (id, user_id, name, graph_definition) "
                "VALUES (:id, :u, 'empty', '{}')"
            ),
            {"id": workflow_id, "u": owner},
        )
    with Session(engine) as session:
        document = queries.get_workflow_document(session, workflow_id)
        assert document is not None
        assert (document["blocks"], document["edges"], document["agents"]) == ([], [], {})
        agent = queries.get_agent_document(session, agent_id)
        assert agent is not None
        assert (agent["tools"], agent["knowledgebases"]) == ([], [])
        assert queries.get_workflow_document(session, uuid.uuid4()) is None
        assert queries.get_agent_document(session, uuid.uuid4()) is None
        assert session.execute(text("SELECT agentdb.workflow_document(NULL)")).scalar() is None


def test_builders_run_the_document_functions(engine: Engine) -> None:
    with engine.begin() as conn:
        agent_id = add_agent(conn, add_user(conn))
    with Session(engine) as session:
        via_builder = session.execute(queries.agent_document_stmt(agent_id)).scalar_one()
        assert via_builder == queries.get_agent_document(session, agent_id)


def test_functions_are_stable_pinned_commented_and_granted(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.oid::regprocedure::text, p.provolatile, p.prosecdef, p.proconfig, "
                "       obj_description(p.oid, 'pg_proc') IS NOT NULL, "
                "       has_function_privilege('agentdb_app', p.oid, 'EXECUTE'), "
                "       has_function_privilege('public', p.oid, 'EXECUTE') "
                "FROM pg_proc p WHERE p.pronamespace = 'agentdb'::regnamespace "
                "AND p.proname IN ('workflow_document', 'agent_document') ORDER BY 1"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (
            "agentdb.agent_document(uuid)",
            "s",
            False,
            ["search_path=pg_catalog, pg_temp"],
            True,
            True,
            False,
        ),
        (
            "agentdb.workflow_document(uuid)",
            "s",
            False,
            ["search_path=pg_catalog, pg_temp"],
            True,
            True,
            False,
        ),
    ]


def test_callers_need_agentdb_app_and_their_own_table_privileges(engine: Engine) -> None:
    suffix = uuid.uuid4().hex[:8]
    app, stranger = f"q_app_{suffix}", f"q_stranger_{suffix}"
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=2)
        conn.execute(text(f"CREATE ROLE {app} NOLOGIN IN ROLE agentdb_app"))
        conn.execute(text(f"CREATE ROLE {stranger} NOLOGIN"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {app}, {stranger}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA agentdb TO {stranger}"))
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SET ROLE {app}"))
            document = conn.execute(
                text("SELECT agentdb.workflow_document(:id)"), {"id": workflow_id}
            ).scalar_one()
            assert document["id"] == str(workflow_id)
            conn.rollback()
            conn.execute(text(f"SET ROLE {stranger}"))
            with pytest.raises(ProgrammingError, match="permission denied for function"):
                conn.execute(text("SELECT agentdb.workflow_document(:id)"), {"id": workflow_id})
            conn.rollback()
    finally:
        with engine.begin() as conn:
            for role in (app, stranger):
                conn.execute(text(f"DROP OWNED BY {role}"))
                conn.execute(text(f"DROP ROLE {role}"))


def test_downgrade_drops_the_functions_and_upgrade_restores_them(engine: Engine) -> None:
    def installed() -> list[str]:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT oid::regprocedure::text FROM pg_proc "
                    "WHERE proname IN ('workflow_document', 'agent_document') ORDER BY 1"
                )
            ).scalars()
            return list(found)

    assert installed() == sorted(FUNCTIONS)
    install.downgrade(engine, "0004")
    assert installed() == []
    install.upgrade(engine, "head")
    assert installed() == sorted(FUNCTIONS)
