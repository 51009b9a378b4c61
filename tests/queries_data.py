"""Test data for the query-layer tests, written with SQL (generate_series), not the ORM."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection, text


def add_user(conn: Connection, name: str = "owner") -> uuid.UUID:
    """A user with a unique email."""
    user_id = uuid.uuid4()
    conn.execute(
        text("INSERT INTO users (id, email, name) VALUES (:id, :email, :name)"),
        {"id": user_id, "email": f"{user_id.hex}@example.com", "name": name},
    )
    return user_id


def add_agent(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    name: str = "agent",
    configuration: dict[str, Any] | None = None,
    tools: int = 0,
    knowledgebases: int = 0,
) -> uuid.UUID:
    """An agent with `tools` tools and `knowledgebases` linked knowledgebases."""
    agent_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO agents (id, user_id, name, configuration) "
            "VALUES (:id, :user_id, :name, CAST(:configuration AS jsonb))"
        ),
        {
            "id": agent_id,
            "user_id": user_id,
            "name": name,
            "configuration": _json(configuration or {"llm_provider": "openai"}),
        },
    )
    conn.execute(
        text(
            "INSERT INTO agent_tools (agent_id, name, tool_type, config) "
            "SELECT :agent_id, 'tool ' || lpad(i::text, 4, '0'), 'http', "
            "       jsonb_build_object('n', i) "
            "FROM generate_series(1, :n) i"
        ),
        {"agent_id": agent_id, "n": tools},
    )
    conn.execute(
        text(
            "WITH kb AS ("
            "  INSERT INTO knowledgebases (user_id, name) "
            "  SELECT :user_id, 'kb ' || lpad(i::text, 4, '0') FROM generate_series(1, :n) i "
            "  RETURNING id) "
            "INSERT INTO agent_knowledgebases (agent_id, knowledgebase_id) "
            "SELECT :agent_id, id FROM kb"
        ),
        {"agent_id": agent_id, "user_id": user_id, "n": knowledgebases},
    )
    return agent_id


def add_workflow(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    blocks: int,
    name: str = "workflow",
    node_types: tuple[str, ...] = ("start", "agent", "end"),
) -> uuid.UUID:
    """A workflow of `blocks` blocks in a chain (blocks - 1 edges).

    Every third block has no agent; the others use one of up to five agents of
    the owner. Positions run backwards with ties, so the (position, id) order
    differs from insertion order.
    """
    workflow_id = uuid.uuid4()
    nodes = [{"id": f"n{i}", "type": t} for i, t in enumerate(node_types)]
    conn.execute(
        text(
            "INSERT INTO workflows (id, user_id, name, graph_definition) "
            "VALUES (:id, :user_id, :name, CAST(:graph AS jsonb))"
        ),
        {
            "id": workflow_id,
            "user_id": user_id,
            "name": name,
            "graph": _json({"nodes": nodes, "edges": []}),
        },
    )
    agents = [add_agent(conn, user_id, name=f"block agent {i}") for i in range(min(blocks, 5))]
    conn.execute(
        text(
            "INSERT INTO agent_blocks (workflow_id, agent_id, type, name, position, config) "
            "SELECT :workflow_id, "
            "       CASE WHEN i % 3 = 0 THEN NULL ELSE "
            "         (CAST(:agents AS uuid[]))[i % cardinality(CAST(:agents AS uuid[])) + 1] "
            "       END, "
            "       CASE WHEN i % 3 = 0 THEN 'tool' ELSE 'agent' END, "
            "       'block ' || i, (:n - i) / 2, jsonb_build_object('i', i) "
            "FROM generate_series(1, :n) i"
        ),
        {"workflow_id": workflow_id, "agents": agents, "n": blocks},
    )
    conn.execute(
        text(
            "INSERT INTO workflow_edges (workflow_id, source_block_id, target_block_id, condition) "
            "SELECT :workflow_id, src, dst, 'edge ' || n FROM ("
            "  SELECT id AS src, lead(id) OVER (ORDER BY position, id) AS dst, "
            "         row_number() OVER () AS n "
            "  FROM agent_blocks WHERE workflow_id = :workflow_id) chain "
            "WHERE dst IS NOT NULL"
        ),
        {"workflow_id": workflow_id},
    )
    return workflow_id


def add_agent_executions(
    conn: Connection,
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
    conn.execute(
        text(
            "WITH e AS ("
            "  INSERT INTO agent_executions (agent_id, user_id, session_id, status, started_at) "
            "  SELECT :agent_id, :user_id, :session_id, "
            "         (CAST(:statuses AS text[]))[i % cardinality(CAST(:statuses AS text[])) + 1], "
            "         date_trunc('second', timezone('utc', now())) "
            "           - make_interval(mins => (CASE WHEN :ties THEN i / 2 ELSE i END) * :apart) "
            "  FROM generate_series(1, :n) i RETURNING id) "
            "INSERT INTO execution_metrics (execution_id, llm_call_count, total_tokens, cost) "
            "SELECT id, 2, 300, 0.0125 FROM e"
        ),
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
    conn: Connection,
    user_id: uuid.UUID,
    workflow_id: uuid.UUID,
    n: int,
    *,
    status_cycle: tuple[str, ...] = ("completed", "failed", "running"),
    minutes_apart: int = 1,
    ties: bool = False,
) -> None:
    """`n` workflow executions, one every `minutes_apart` minutes back from now (pairs tie)."""
    conn.execute(
        text(
            "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at) "
            "SELECT :workflow_id, :user_id, "
            "       (CAST(:statuses AS text[]))[i % cardinality(CAST(:statuses AS text[])) + 1], "
            "       date_trunc('second', timezone('utc', now())) "
            "         - make_interval(mins => (CASE WHEN :ties THEN i / 2 ELSE i END) * :apart) "
            "FROM generate_series(1, :n) i"
        ),
        {
            "workflow_id": workflow_id,
            "user_id": user_id,
            "statuses": list(status_cycle),
            "n": n,
            "apart": minutes_apart,
            "ties": ties,
        },
    )


def _json(value: Any) -> str:
    return json.dumps(value)
