"""memory cleanup (issue 15): batches resume where the last one stopped, in index-only scans

cleanup_expired_memories takes p_resume and returns resume_after per policy:
the (age, id) of the last row its last full batch deleted. A batch starts
after it, so it never walks the index entries of the rows earlier batches
deleted (dead until VACUUM); run_memory_maintenance passes each policy's
position back on every call between its COMMITs. Each batch's bound is found
in an index-only scan and its DELETE is one bitmap scan, both bounded on the
age alone as well as on (age, id), which the planner estimates (on the row
comparison alone it chose a sequential scan).

The policies' partial indexes are built again on (age, id), CONCURRENTLY,
before the old ones are dropped (0015's incremental sort on id and heap fetch
per row go); the long-term one includes last_accessed_at and created_at,
which an index-only scan on its coalesce() needs. One more partial index,
short-term memories with access_count >= 3, lets consolidation read only the
memories it promotes instead of every short-term row.

Price: three index builds over the rows of their policies and one over
short-term memories recalled 3 times or more, each a scan of agent_memories
without blocking writes; the (age, id) indexes are 16 bytes an entry larger
(the long-term one 32). touch_memories was not HOT since 0006 (last_accessed_at
is indexed) and stays as it was: a touch that lifts access_count to 3 adds an
entry to the new index. The function's signature changes (DROP and CREATE in
one transaction with its caller); an older caller passing two arguments
still works.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from pyglue.migration_ops import create_index_concurrently, drop_index_concurrently, run_frozen

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

NEW_INDEXES = {
    "ix_agent_memories_short_term_created_id":
        "ON public.agent_memories (created_at, id) WHERE type = 'short_term'",
    "ix_agent_memories_long_term_low_accessed_id":
        "ON public.agent_memories ((coalesce(last_accessed_at, created_at)), id)"
        " INCLUDE (last_accessed_at, created_at)"
        " WHERE type = 'long_term' AND importance = 'low'",
    "ix_agent_memories_episodic_low_created_id":
        "ON public.agent_memories (created_at, id) WHERE type = 'episodic' AND importance = 'low'",
    "ix_agent_memories_short_term_recalled":
        "ON public.agent_memories (created_at) WHERE type = 'short_term' AND access_count >= 3",
}  # fmt: skip
SUPERSEDED_INDEXES = {
    "ix_agent_memories_short_term_created":
        "ON public.agent_memories (created_at) WHERE type = 'short_term'",
    "ix_agent_memories_long_term_low_accessed":
        "ON public.agent_memories ((coalesce(last_accessed_at, created_at)))"
        " WHERE type = 'long_term' AND importance = 'low'",
    "ix_agent_memories_episodic_low_created":
        "ON public.agent_memories (created_at) WHERE type = 'episodic' AND importance = 'low'",
}  # fmt: skip


def upgrade() -> None:
    for name, definition in NEW_INDEXES.items():
        create_index_concurrently(name, definition)
    run_frozen(
        revision,
        {
            "memory_signature.sql": "f013675f48d6",
            "memory/cleanup_expired_memories.sql": "6312d07b6096",
            "memory/run_memory_maintenance.sql": "8c44ba7135a3",
        },
    )
    for name in SUPERSEDED_INDEXES:
        drop_index_concurrently(name)


def downgrade() -> None:
    for name, definition in SUPERSEDED_INDEXES.items():
        create_index_concurrently(name, definition)
    run_frozen(revision, {"downgrade.sql": "2eee4951e6a0"})
    run_frozen("0015", {"memory/cleanup_expired_memories.sql": "951cc9933ceb"})
    run_frozen("0011", {"memory/run_memory_maintenance.sql": "d17343625f24"})
    for name in NEW_INDEXES:
        drop_index_concurrently(name)
