"""Agent memories from the app's side: recall that records the access in the same transaction.

`recall` returns `AgentMemory` rows rather than frozen dataclasses: they are
the platform's own mapped objects, in the caller's Session identity map, so the
app can edit them, delete them or pass them to code that already takes
`AgentMemory`, without a second query. Their `access_count` and
`last_accessed_at` are set to the values `agentdb.touch_memories` returned,
as committed state: the objects are not dirty and no extra SELECT runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from pyglue.models import MEMORY_TYPES, AgentMemory

MAX_RECALL = 1000

_TOUCH = text(
    "SELECT id, access_count, last_accessed_at FROM agentdb.touch_memories(CAST(:ids AS uuid[]))"
)


def _check_arguments(types: Sequence[str] | None, limit: int) -> list[str] | None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RECALL:
        raise ValueError(f"limit must be an integer from 1 to {MAX_RECALL}, not {limit!r}")
    if types is None:
        return None
    if isinstance(types, str):
        raise ValueError(f"types must be a list of memory types, not the string {types!r}")
    chosen = list(types)
    unknown = sorted(set(chosen) - set(MEMORY_TYPES))
    if unknown:
        raise ValueError(
            f"types must be drawn from {', '.join(MEMORY_TYPES)}; unknown: {', '.join(unknown)}"
        )
    return chosen


def recall(
    session: Session,
    agent_id: uuid.UUID,
    *,
    session_id: str | None = None,
    types: Sequence[str] | None = None,
    limit: int = 20,
) -> list[AgentMemory]:
    """An agent's newest memories (optionally of one session and some types), their recall recorded.

    Two statements in the session's current transaction: the SELECT, then
    `agentdb.touch_memories` over the ids it returned. Nothing is committed:
    the access is recorded when the caller commits, and rolled back with it.
    `types=[]` selects nothing and touches nothing.
    """
    chosen = _check_arguments(types, limit)
    if chosen == []:
        return []
    query = select(AgentMemory).where(AgentMemory.agent_id == agent_id)
    if session_id is not None:
        query = query.where(AgentMemory.session_id == session_id)
    if chosen is not None:
        query = query.where(AgentMemory.type.in_(chosen))
    query = query.order_by(AgentMemory.created_at.desc(), AgentMemory.id.desc()).limit(limit)
    memories = list(session.scalars(query))
    if not memories:
        return []
    touched = {
        row.id: row for row in session.execute(_TOUCH, {"ids": [memory.id for memory in memories]})
    }
    for memory in memories:
        row = touched.get(memory.id)
        # absent: deleted by a concurrent cleanup after the SELECT; keep what was read
        if row is not None:
            set_committed_value(memory, "access_count", row.access_count)
            set_committed_value(memory, "last_accessed_at", row.last_accessed_at)
    return memories
