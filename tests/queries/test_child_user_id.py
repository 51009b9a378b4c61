"""Child tables' user_id (0020): the ORM fills it, triggers keep it, helpers join on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
import pytest
from factories import add_agent, add_user, add_workflow
from queries.orm_children import expected, fixed_ids, snapshot, write_with_orm
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pyglue.dburl import create_engine_for, libpq_dsn, resolve_url
from pyglue.models import Agent, AgentMemory, AgentTool, agent_knowledgebases
from pyglue.monitoring import count_queries

CHILDREN = (
    "agent_tools", "agent_knowledgebases", "agent_memories", "agent_blocks",
    "workflow_edges", "execution_metrics",
)  # fmt: skip


@pytest.fixture
def engine(head_url: str) -> Iterator[Engine]:
    eng = create_engine_for(head_url)
    try:
        yield eng
    finally:
        eng.dispose()


def _now() -> datetime:
    return datetime.utcnow().replace(microsecond=0) - timedelta(hours=1)


def test_orm_writes_of_every_child_fill_user_id_and_the_helpers_read_them(engine: Engine) -> None:
    ids = fixed_ids(1)
    write_with_orm(engine, ids, _now())
    with engine.connect() as conn:
        for table in CHILDREN:
            users = conn.execute(text(f"SELECT DISTINCT user_id FROM {table}")).scalars().all()
            assert users == [ids.user], table
    assert snapshot(engine, ids) == expected(ids)


def test_the_fill_takes_a_loaded_parent_without_a_query(engine: Engine) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(str(engine.url)))) as conn:
        user = add_user(conn)
        agent_id = add_agent(conn, user)
    with Session(engine) as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        with count_queries(engine) as counter:
            session.add(AgentTool(agent_id=agent_id, name="t", tool_type="http"))
            session.flush()
        assert counter.count == 1  # the INSERT alone
        session.expunge(agent)
        with count_queries(engine) as counter:
            session.add(AgentMemory(agent_id=agent_id, type="short_term", content="c"))
            session.flush()
        assert counter.count == 2  # the parent's user_id, then the INSERT
        session.commit()


def test_another_user_id_than_the_parents_is_refused_naming_the_column(engine: Engine) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(str(engine.url)))) as conn:
        user = add_user(conn)
        other = add_user(conn)
        agent = add_agent(conn, user)
    with Session(engine) as session:
        session.add(AgentTool(agent_id=agent, user_id=other, name="t", tool_type="http"))
        with pytest.raises(IntegrityError) as raised:
            session.flush()
    error = raised.value.orig
    assert isinstance(error, psycopg.errors.ForeignKeyViolation)
    assert error.diag.message_primary == (
        f"agent_tools.user_id must be the user of its agent: agent {agent} belongs to user "
        f"{user}, not {other}"
    )
    assert error.diag.column_name == "user_id"
    assert error.diag.table_name == "agent_tools"


def test_raw_sql_without_user_id_is_filled_and_a_missing_parent_is_the_foreign_key_error(
    engine: Engine,
) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(str(engine.url))), autocommit=True) as conn:
        user = add_user(conn)
        workflow = add_workflow(conn, user, blocks=3)
        (user_of_blocks,) = conn.execute(
            "SELECT DISTINCT user_id FROM agent_blocks WHERE workflow_id = %s", (workflow,)
        ).fetchall()
        assert user_of_blocks == (user,)
        missing = uuid.uuid4()
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as raised:
            conn.execute(
                "INSERT INTO agent_memories (agent_id, type, content) VALUES (%s, 'episodic', 'x')",
                (missing,),
            )
        assert raised.value.diag.message_primary == (
            'insert or update on table "agent_memories" violates foreign key constraint'
            ' "fk_agent_memories_agent_id_agents"'
        )
        assert raised.value.diag.constraint_name == "fk_agent_memories_agent_id_agents"
        run = conn.execute(
            "INSERT INTO agent_executions (agent_id, user_id) SELECT id, user_id FROM agents"
            " WHERE user_id = %s LIMIT 1 RETURNING id, started_at",
            (user,),
        ).fetchone()
        assert run is not None
        other = add_user(conn)
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as raised:
            conn.execute(
                "INSERT INTO execution_metrics (execution_id, started_at, user_id)"
                " VALUES (%s, %s, %s)",
                (run[0], run[1], other),
            )
        assert raised.value.diag.message_primary == (
            f"execution_metrics.user_id must be the user of its execution: execution {run[0]}"
            f" belongs to user {user}, not {other}"
        )


def test_children_follow_a_change_of_their_parents_user(engine: Engine) -> None:
    ids = fixed_ids(2)
    write_with_orm(engine, ids, _now())
    with psycopg.connect(libpq_dsn(resolve_url(str(engine.url))), autocommit=True) as conn:
        new = add_user(conn)
        conn.execute("UPDATE agents SET user_id = %s WHERE id = %s", (new, ids.agent))
        conn.execute("UPDATE workflows SET user_id = %s WHERE id = %s", (new, ids.workflow))
        conn.execute(
            "UPDATE agent_executions SET user_id = %s WHERE agent_id = %s", (new, ids.agent)
        )
        for table in CHILDREN:
            users = conn.execute(f"SELECT DISTINCT user_id FROM {table}").fetchall()
            assert users == [(new,)], table
        # a run moved to another month takes its metrics along, with its user
        conn.execute(
            "UPDATE agent_executions SET user_id = %s, started_at = started_at - interval '40 days'"
            " WHERE id = %s",
            (ids.user, ids.runs[0]),
        )
        assert conn.execute(
            "SELECT m.user_id FROM execution_metrics m WHERE m.execution_id = %s", (ids.runs[0],)
        ).fetchall() == [(ids.user,)]
        # a tool moved to another user's agent takes that user
        other_agent = add_agent(conn, ids.user, name="another")
        conn.execute(
            "UPDATE agent_tools SET agent_id = %s WHERE agent_id = %s", (other_agent, ids.agent)
        )
        assert conn.execute(
            "SELECT DISTINCT user_id FROM agent_tools WHERE agent_id = %s", (other_agent,)
        ).fetchall() == [(ids.user,)]


def test_a_core_insert_of_a_knowledgebase_link_takes_the_agents_user(engine: Engine) -> None:
    """agent_knowledgebases is a Table: its user_id default reads the agent's."""
    with psycopg.connect(libpq_dsn(resolve_url(str(engine.url)))) as conn:
        user = add_user(conn)
        agent = add_agent(conn, user)
        kb = conn.execute(
            "INSERT INTO knowledgebases (user_id, name) VALUES (%s, 'kb') RETURNING id", (user,)
        ).fetchone()
        assert kb is not None
    with engine.begin() as conn:
        conn.execute(insert(agent_knowledgebases).values(agent_id=agent, knowledgebase_id=kb[0]))
        assert (
            conn.execute(
                select(agent_knowledgebases.c.user_id).where(
                    agent_knowledgebases.c.agent_id == agent
                )
            ).scalar_one()
            == user
        )
