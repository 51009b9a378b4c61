"""pyglue.memory.recall: the newest memories, their access recorded in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from factories import AGENT_ID, USER_ID, add_agent, add_memories, add_memory_agent
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from pyglue.memory import recall
from pyglue.models import AgentMemory

OTHER_AGENT = uuid.UUID("00000000-0000-0000-0000-0000000000a2")


@pytest.fixture
def memories(engine: Engine) -> Engine:
    add_memory_agent(engine)
    with engine.begin() as conn:
        add_agent(conn, USER_ID, OTHER_AGENT, name="other")
        # ages 1..30 minutes; content says which, so order is checkable
        for minute in range(1, 31):
            add_memories(
                conn,
                1,
                type_=("short_term", "long_term", "episodic")[minute % 3],
                session_id="s1" if minute % 2 else "s2",
                age=timedelta(minutes=minute),
                content=f"m{minute:02d}",
            )
        add_memories(conn, 5, type_="short_term", age=timedelta(seconds=1), agent_id=OTHER_AGENT)
    return engine


def _access(engine: Engine) -> dict[str, tuple[int, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT content, access_count, last_accessed_at IS NOT NULL FROM agent_memories")
        )
        return {row[0]: (row[1], row[2]) for row in rows}


def test_recall_returns_newest_and_records_access(memories: Engine) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(memories, "before_cursor_execute", count)
    with Session(memories) as session:
        found = recall(session, AGENT_ID, limit=5)
        assert len(statements) == 2  # the SELECT and touch_memories, nothing per row
        assert [m.content for m in found] == ["m01", "m02", "m03", "m04", "m05"]
        assert all(isinstance(m, AgentMemory) for m in found)
        assert [m.access_count for m in found] == [1, 1, 1, 1, 1]
        assert all(m.last_accessed_at is not None for m in found)
        assert not session.dirty  # the new values are committed state, not pending edits
        session.commit()
    event.remove(memories, "before_cursor_execute", count)
    access = _access(memories)
    assert {c for c, (n, at) in access.items() if n == 1 and at} == {f"m0{i}" for i in range(1, 6)}
    assert sum(n for n, _ in access.values()) == 5

    with Session(memories) as session:
        again = recall(session, AGENT_ID, limit=2)
        assert [(m.content, m.access_count) for m in again] == [("m01", 2), ("m02", 2)]
        session.commit()


def test_recall_is_rolled_back_with_the_transaction(memories: Engine) -> None:
    with Session(memories) as session:
        assert len(recall(session, AGENT_ID)) == 20
        session.rollback()
    assert sum(n for n, _ in _access(memories).values()) == 0


def test_recall_filters(memories: Engine) -> None:
    with Session(memories) as session:
        in_session = recall(session, AGENT_ID, session_id="s2", limit=4)
        assert [m.content for m in in_session] == ["m02", "m04", "m06", "m08"]
        episodic = recall(session, AGENT_ID, types=["episodic"], limit=3)
        assert [m.content for m in episodic] == ["m02", "m05", "m08"]
        both = recall(session, AGENT_ID, session_id="s1", types=("long_term", "episodic"), limit=30)
        assert [m.content for m in both] == [
            f"m{i:02d}" for i in range(1, 31) if i % 2 and i % 3 != 0
        ]
        assert recall(session, AGENT_ID, types=[]) == []
        assert recall(session, uuid.uuid4()) == []
        other = recall(session, OTHER_AGENT)
        assert len(other) == 5
        assert {m.agent_id for m in other} == {OTHER_AGENT}
        assert recall(session, AGENT_ID, session_id="nope") == []
        session.commit()
    # m02 was recalled twice (session s2, then episodic)
    assert _access(memories)["m02"] == (2, True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit must be an integer from 1 to 1000, not 0"),
        ({"limit": 1001}, "limit must be an integer from 1 to 1000, not 1001"),
        ({"limit": True}, "limit must be an integer from 1 to 1000, not True"),
        (
            {"types": ["short_term", "working", "semantic"]},
            "types must be drawn from short_term, long_term, episodic; unknown: semantic, working",
        ),
        (
            {"types": "short_term"},
            "types must be a list of memory types, not the string 'short_term'",
        ),
    ],
)
def test_recall_bad_arguments(memories: Engine, kwargs: dict[str, Any], message: str) -> None:
    with Session(memories) as session, pytest.raises(ValueError, match=message):
        recall(session, AGENT_ID, **kwargs)
