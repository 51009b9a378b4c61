"""Agent memories from the app's side: recall that records the access in the same transaction.

`recall` returns `AgentMemory` rows rather than frozen dataclasses: they are
the platform's own mapped objects, in the caller's Session identity map, so the
app can edit them, delete them or pass them to code that already takes
`AgentMemory`, without a second query. Their `access_count` and
`last_accessed_at` are set to the values `agentdb.touch_memories` returned,
as committed state: the objects are not dirty and no extra SELECT runs.
A bad argument raises InvalidArgument (a ValueError) naming it, before any
statement; a failure in the database, the pyglue error of `pyglue.routines`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from pyglue import arguments
from pyglue.errors import InvalidArgument
from pyglue.models import MEMORY_TYPES, AgentMemory
from pyglue.routines import APP_ROLE, call, translated

MAX_RECALL = 1000


def _chosen_types(types: Sequence[str] | None) -> list[str] | None:
    if types is None:
        return None
    if isinstance(types, str):
        raise InvalidArgument(
            f"types must be a list of memory types, not the string {types!r}", parameter="types"
        )
    try:
        chosen = list(types)
    except TypeError:
        raise arguments.refuse("types", "a list of memory types", types) from None
    unknown = sorted({str(value) for value in chosen if value not in MEMORY_TYPES})
    if unknown:
        raise InvalidArgument(
            f"types must be drawn from {', '.join(MEMORY_TYPES)}; unknown: {', '.join(unknown)}",
            parameter="types",
        )
    return chosen


def recall(
    session: Session,
    agent_id: uuid.UUID,
    *,
    session_id: str | None = None,
    types: Sequence[str] | None = None,
    limit: int = 20,
    touch: bool = True,
) -> list[AgentMemory]:
    """An agent's newest memories (optionally of one session and some types), their recall recorded.

    Two statements in the session's current transaction: the SELECT, then
    `agentdb.touch_memories` over the ids it returned. Nothing is committed:
    the access is recorded when the caller commits, and rolled back with it.
    `types=[]` selects nothing and touches nothing.

    `touch=False` only reads (the SELECT): what a session on a read replica
    does, since recording the access is a write (on a standby, `touch=True`
    raises ReadOnlyDatabase).
    """
    agent = arguments.identifier("agent_id", agent_id)
    arguments.optional_text("session_id", session_id)
    limit = arguments.integer(
        "limit", limit, minimum=1, maximum=MAX_RECALL, expected=f"an integer from 1 to {MAX_RECALL}"
    )
    chosen = _chosen_types(types)
    if chosen == []:
        return []
    query = select(AgentMemory).where(AgentMemory.agent_id == agent)
    if session_id is not None:
        query = query.where(AgentMemory.session_id == session_id)
    if chosen is not None:
        query = query.where(AgentMemory.type.in_(chosen))
    query = query.order_by(AgentMemory.created_at.desc(), AgentMemory.id.desc()).limit(limit)
    with translated(routine="agent_memories", role=None):
        memories = list(session.scalars(query))
    if not memories or not touch:
        return memories
    rows = call(
        session,
        "SELECT id, access_count, last_accessed_at"
        " FROM agentdb.touch_memories(CAST(:ids AS uuid[]))",
        {"ids": [memory.id for memory in memories]},
        routine="agentdb.touch_memories",
        role=APP_ROLE,
    )
    touched = {row.id: row for row in rows}
    for memory in memories:
        row = touched.get(memory.id)
        # absent: deleted by a concurrent cleanup after the SELECT; keep what was read
        if row is not None:
            set_committed_value(memory, "access_count", row.access_count)
            set_committed_value(memory, "last_accessed_at", row.last_accessed_at)
    return memories
