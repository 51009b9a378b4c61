"""memory lifecycle: policies, consolidation, batched cleanup, pg_cron jobs

agentdb.memory_policies (the rules, editable by DBAs) with its validation
trigger; agentdb.touch_memories, consolidate_memories,
preview_memory_consolidation, preview_memory_cleanup, cleanup_expired_memories
and the procedure run_memory_maintenance; the jobs agentdb-memory-maintenance
(daily 03:00 UTC) and agentdb-purge-cron-history, registered with
agentdb.register_job(). It grants agentdb_admin INSERT/UPDATE on
agentdb.maintenance_runs, which the procedure needs to keep its run row.

One partial index per default policy, so each policy's batch is an index
range scan that starts at the oldest row, built CONCURRENTLY:

- short_term: (created_at) WHERE type = 'short_term'
- long_term_low: (coalesce(last_accessed_at, created_at))
  WHERE type = 'long_term' AND importance = 'low' (never recalled: aged from
  creation; the query spells the same expression)
- episodic_low: (created_at) WHERE type = 'episodic' AND importance = 'low'

The price: last_accessed_at is now an indexed column, so the UPDATE of
touch_memories is no longer HOT (it adds entries to agent_memories' indexes).
The partial index cannot be avoided by scanning created_at instead: rows
recalled recently would be re-read by every batch of every run.

Revision ID: 0006
Revises: 0005
"""

from pyglue.migration_ops import (
    create_index_concurrently,
    drop_index_concurrently,
    run_frozen,
)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = {
    "memory/run_log_grants.sql": "e9822570c052",
    "memory/memory_policies.sql": "c87485eae052",
    "memory/validate_memory_policy.sql": "c7600be87e8b",
    "memory/build_expiry_predicate.sql": "b1ccb5a2564a",
    "memory/touch_memories.sql": "de4f29af95bf",
    "memory/consolidate_memories.sql": "843ac1c1917f",
    "memory/preview_memory_consolidation.sql": "4cda0fb227bd",
    "memory/preview_memory_cleanup.sql": "3291dc0ce518",
    "memory/cleanup_expired_memories.sql": "f5d73aa1e0b8",
    "memory/run_memory_maintenance.sql": "e2b6846be1eb",
    "memory/jobs.sql": "8466668f3700",
}

INDEXES = {
    "ix_agent_memories_short_term_created":
        "ON public.agent_memories (created_at) WHERE type = 'short_term'",
    "ix_agent_memories_long_term_low_accessed":
        "ON public.agent_memories ((coalesce(last_accessed_at, created_at)))"
        " WHERE type = 'long_term' AND importance = 'low'",
    "ix_agent_memories_episodic_low_created":
        "ON public.agent_memories (created_at) WHERE type = 'episodic' AND importance = 'low'",
}  # fmt: skip


def upgrade() -> None:
    run_frozen(revision, UPGRADE)
    for name, definition in INDEXES.items():
        create_index_concurrently(name, definition)


def downgrade() -> None:
    for name in INDEXES:
        drop_index_concurrently(name)
    run_frozen(revision, {"downgrade.sql": "e262a644b2e7"})
