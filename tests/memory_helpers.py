"""Test helpers for the memory lifecycle tests: a user, an agent and memories of chosen ages."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Connection, Engine, text

USER_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")
AGENT_ID = uuid.UUID("00000000-0000-0000-0000-0000000000a1")


def make_agent(engine: Engine) -> uuid.UUID:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO users (id, email) VALUES (:id, 'memory-tests@example.com')"),
            {"id": USER_ID},
        )
        conn.execute(
            text("INSERT INTO agents (id, user_id, name) VALUES (:id, :user_id, 'memory agent')"),
            {"id": AGENT_ID, "user_id": USER_ID},
        )
    return AGENT_ID


def add_memories(
    conn: Connection,
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
    conn.execute(
        text(
            "INSERT INTO agent_memories"
            " (agent_id, session_id, type, importance, content, access_count,"
            "  created_at, updated_at)"
            " SELECT :agent_id, :session_id, :type, :importance, :content, :access_count,"
            "        timezone('utc', now()) - :age - g * :step,"
            "        timezone('utc', now()) - :age - g * :step"
            "   FROM generate_series(0, :count - 1) AS g"
        ),
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
