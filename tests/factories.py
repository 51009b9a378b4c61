"""Rows for every test, written with SQL (not the ORM): one builder per kind of row.

Each builder takes a SQLAlchemy Connection or a psycopg connection, so tests
of any capability share them; a change to the platform's tables (a new
required column, a partition key) is made here once.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, text

Conn = Connection | psycopg.Connection[Any]

# the user and agent the memory tests share
USER_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")
AGENT_ID = uuid.UUID("00000000-0000-0000-0000-0000000000a1")


def execute(conn: Conn, sql: str, params: dict[str, Any] | None = None) -> None:
    """Run `sql` with %(name)s parameters on either kind of connection."""
    if isinstance(conn, psycopg.Connection):
        conn.execute(sql, params)
    else:
        conn.exec_driver_sql(sql, params or {})


def add_user(conn: Conn, user_id: uuid.UUID | None = None, *, name: str = "owner") -> uuid.UUID:
    """A user with a unique email."""
    user_id = user_id or uuid.uuid4()
    execute(
        conn,
        "INSERT INTO users (id, email, name) VALUES (%(id)s, %(email)s, %(name)s)",
        {"id": user_id, "email": f"{user_id.hex}@example.com", "name": name},
    )
    return user_id


def add_agent(
    conn: Conn,
    user_id: uuid.UUID,
    agent_id: uuid.UUID | None = None,
    *,
    name: str = "agent",
    configuration: dict[str, Any] | None = None,
    tools: int = 0,
    knowledgebases: int = 0,
) -> uuid.UUID:
    """An agent with `tools` tools and `knowledgebases` linked knowledgebases."""
    agent_id = agent_id or uuid.uuid4()
    execute(
        conn,
        "INSERT INTO agents (id, user_id, name, configuration)"
        " VALUES (%(id)s, %(user_id)s, %(name)s, CAST(%(configuration)s AS jsonb))",
        {
            "id": agent_id,
            "user_id": user_id,
            "name": name,
            "configuration": json.dumps(configuration or {"llm_provider": "openai"}),
        },
    )
    execute(
        conn,
        "INSERT INTO agent_tools (agent_id, name, tool_type, config)"
        " SELECT %(agent_id)s, 'tool ' || lpad(i::text, 4, '0'), 'http', jsonb_build_object('n', i)"
        " FROM generate_series(1, %(n)s) i",
        {"agent_id": agent_id, "n": tools},
    )
    execute(
        conn,
        "WITH kb AS ("
        "  INSERT INTO knowledgebases (user_id, name)"
        "  SELECT %(user_id)s, 'kb ' || lpad(i::text, 4, '0') FROM generate_series(1, %(n)s) i"
        "  RETURNING id)"
        " INSERT INTO agent_knowledgebases (agent_id, knowledgebase_id)"
        " SELECT %(agent_id)s, id FROM kb",
        {"agent_id": agent_id, "user_id": user_id, "n": knowledgebases},
    )
    return agent_id


def add_workflow(
    conn: Conn,
    user_id: uuid.UUID,
    workflow_id: uuid.UUID | None = None,
    *,
    blocks: int = 0,
    name: str = "workflow",
    node_types: tuple[str, ...] = ("start", "agent", "end"),
) -> uuid.UUID:
    """A workflow of `blocks` blocks in a chain (blocks - 1 edges).

    Every third block has no agent; the others use one of up to five agents of
    the owner. Positions run backwards with ties, so the (position, id) order
    differs from insertion order.
    """
    workflow_id = workflow_id or uuid.uuid4()
    nodes = [{"id": f"n{i}", "type": t} for i, t in enumerate(node_types)]
    execute(
        conn,
        "INSERT INTO workflows (id, user_id, name, graph_definition)"
        " VALUES (%(id)s, %(user_id)s, %(name)s, CAST(%(graph)s AS jsonb))",
        {
            "id": workflow_id,
            "user_id": user_id,
            "name": name,
            "graph": json.dumps({"nodes": nodes, "edges": []}),
        },
    )
    if not blocks:
        return workflow_id
    agents = [add_agent(conn, user_id, name=f"block agent {i}") for i in range(min(blocks, 5))]
    execute(
        conn,
        "INSERT INTO agent_blocks (workflow_id, agent_id, type, name, position, config)"
        " SELECT %(workflow_id)s,"
        "        CASE WHEN i %% 3 = 0 THEN NULL"
        "             ELSE (%(agents)s::uuid[])[i %% cardinality(%(agents)s::uuid[]) + 1]"
        "        END,"
        "        CASE WHEN i %% 3 = 0 THEN 'tool' ELSE 'agent' END,"
        "        'block ' || i, (%(n)s - i) / 2, jsonb_build_object('i', i)"
        " FROM generate_series(1, %(n)s) i",
        {"workflow_id": workflow_id, "agents": agents, "n": blocks},
    )
    execute(
        conn,
        "INSERT INTO workflow_edges (workflow_id, source_block_id, target_block_id, condition)"
        " SELECT %(workflow_id)s, src, dst, 'edge ' || n FROM ("
        "  SELECT id AS src, lead(id) OVER (ORDER BY position, id) AS dst,"
        "         row_number() OVER () AS n"
        "  FROM agent_blocks WHERE workflow_id = %(workflow_id)s) chain"
        " WHERE dst IS NOT NULL",
        {"workflow_id": workflow_id},
    )
    return workflow_id


def _started_at() -> str:
    return (
        "date_trunc('second', timezone('utc', now()))"
        " - make_interval(mins => (CASE WHEN %(ties)s THEN i / 2 ELSE i END) * %(apart)s)"
    )


def add_agent_executions(
    conn: Conn,
    user_id: uuid.UUID,
    agent_id: uuid.UUID,
    n: int,
    *,
    session_id: str | None = None,
    status_cycle: tuple[str, ...] = ("completed", "failed", "running"),
    minutes_apart: int = 1,
    ties: bool = False,
) -> None:
    """`n` agent executions with metrics, one every `minutes_apart` minutes back from now.

    With `ties`, executions share started_at in pairs, so paging must break ties by id.
    """
    execute(
        conn,
        "WITH e AS ("
        "  INSERT INTO agent_executions (agent_id, user_id, session_id, status, started_at)"
        "  SELECT %(agent_id)s, %(user_id)s, %(session_id)s,"
        "         (%(statuses)s::text[])[i %% cardinality(%(statuses)s::text[]) + 1],"
        f"         {_started_at()}"
        "  FROM generate_series(1, %(n)s) i RETURNING id, started_at)"
        " INSERT INTO execution_metrics"
        " (execution_id, started_at, llm_call_count, total_tokens, cost)"
        " SELECT id, started_at, 2, 300, 0.0125 FROM e",
        {
            "agent_id": agent_id,
            "user_id": user_id,
            "session_id": session_id,
            "statuses": list(status_cycle),
            "n": n,
            "apart": minutes_apart,
            "ties": ties,
        },
    )


def add_workflow_executions(
    conn: Conn,
    user_id: uuid.UUID,
    workflow_id: uuid.UUID,
    n: int,
    *,
    status_cycle: tuple[str, ...] = ("completed", "failed", "running"),
    minutes_apart: int = 1,
    ties: bool = False,
) -> None:
    """`n` workflow executions, one every `minutes_apart` minutes back from now (pairs tie)."""
    execute(
        conn,
        "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at)"
        " SELECT %(workflow_id)s, %(user_id)s,"
        "        (%(statuses)s::text[])[i %% cardinality(%(statuses)s::text[]) + 1],"
        f"        {_started_at()}"
        " FROM generate_series(1, %(n)s) i",
        {
            "workflow_id": workflow_id,
            "user_id": user_id,
            "statuses": list(status_cycle),
            "n": n,
            "apart": minutes_apart,
            "ties": ties,
        },
    )


def add_memory_agent(engine: Engine) -> uuid.UUID:
    """The user USER_ID and its agent AGENT_ID, which the memory tests write memories for."""
    with engine.begin() as conn:
        add_user(conn, USER_ID)
        add_agent(conn, USER_ID, AGENT_ID, name="memory agent")
    return AGENT_ID


def add_memories(
    conn: Conn,
    count: int,
    *,
    type_: str,
    importance: str = "low",
    age: timedelta,
    step: timedelta = timedelta(seconds=1),
    access_count: int = 0,
    session_id: str | None = None,
    content: str = "memory",
    agent_id: uuid.UUID = AGENT_ID,
) -> None:
    """`count` memories aged `age`, `age + step`, ... (created_at in UTC, never recalled)."""
    execute(
        conn,
        "INSERT INTO agent_memories"
        " (agent_id, session_id, type, importance, content, access_count, created_at, updated_at)"
        " SELECT %(agent_id)s, %(session_id)s, %(type)s, %(importance)s, %(content)s,"
        "        %(access_count)s,"
        "        timezone('utc', now()) - %(age)s - g * %(step)s,"
        "        timezone('utc', now()) - %(age)s - g * %(step)s"
        "   FROM generate_series(0, %(count)s - 1) AS g",
        {
            "agent_id": agent_id,
            "session_id": session_id,
            "type": type_,
            "importance": importance,
            "content": content,
            "access_count": access_count,
            "age": age,
            "step": step,
            "count": count,
        },
    )


def count_memories(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM agent_memories")).scalar_one())
