"""memory lifecycle: policies, consolidation, batched cleanup, pg_cron jobs

agentdb.memory_policies (the rules, editable by DBAs) with its validation
trigger; agentdb.touch_memories, consolidate_memories,
preview_memory_consolidation, preview_memory_cleanup, cleanup_expired_memories
and the procedure run_memory_maintenance; the jobs agentdb-memory-maintenance
(daily 03:00 UTC) and agentdb-purge-cron-history in agentdb.scheduled_jobs.
It also grants agentdb_admin INSERT/UPDATE on agentdb.maintenance_runs, which
begin_run/finish_run (0004) need when a non-superuser admin runs a job.

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
    execute_script,
    run_sql_files,
)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQL_FILES = {
    "schema/memory_policies.sql": "8d96fac032f2",
    "triggers/validate_memory_policy.sql": "c7600be87e8b",
    "schema/maintenance_runs_admin_grants.sql": "91d26e91e748",
    "functions/build_expiry_predicate.sql": "4fe11f02d38c",
    "functions/touch_memories.sql": "de4f29af95bf",
    "functions/consolidate_memories.sql": "843ac1c1917f",
    "functions/preview_memory_consolidation.sql": "4cda0fb227bd",
    "functions/preview_memory_cleanup.sql": "3291dc0ce518",
    "functions/cleanup_expired_memories.sql": "f5d73aa1e0b8",
    "procedures/run_memory_maintenance.sql": "e2b6846be1eb",
    "cron/memory_maintenance_jobs.sql": "cd5c62c11ec5",
}

INDEXES = {
    "ix_agent_memories_short_term_created":
        "ON agent_memories (created_at) WHERE type = 'short_term'",
    "ix_agent_memories_long_term_low_accessed":
        "ON agent_memories ((coalesce(last_accessed_at, created_at)))"
        " WHERE type = 'long_term' AND importance = 'low'",
    "ix_agent_memories_episodic_low_created":
        "ON agent_memories (created_at) WHERE type = 'episodic' AND importance = 'low'",
}  # fmt: skip

JOBS = ("agentdb-memory-maintenance", "agentdb-purge-cron-history")

DOWNGRADE = """
DO $unschedule$
DECLARE
    v_name text;
BEGIN
    IF agentdb.cron_available() THEN
        FOR v_name IN EXECUTE 'SELECT jobname FROM cron.job WHERE jobname = ANY ($1)'
            USING ARRAY['agentdb-memory-maintenance', 'agentdb-purge-cron-history']
        LOOP
            EXECUTE 'SELECT cron.unschedule($1)' USING v_name;
        END LOOP;
    END IF;
END
$unschedule$;
DELETE FROM agentdb.scheduled_jobs
 WHERE job_name IN ('agentdb-memory-maintenance', 'agentdb-purge-cron-history');
DROP PROCEDURE agentdb.run_memory_maintenance(integer, boolean, bigint);
DROP FUNCTION agentdb.cleanup_expired_memories(integer, integer);
DROP FUNCTION agentdb.preview_memory_cleanup();
DROP FUNCTION agentdb.preview_memory_consolidation(uuid);
DROP FUNCTION agentdb.consolidate_memories(uuid);
DROP FUNCTION agentdb.touch_memories(uuid[]);
DROP FUNCTION agentdb.build_expiry_predicate(text, text, text, text);
REVOKE INSERT, UPDATE ON agentdb.maintenance_runs FROM agentdb_admin;
DROP TABLE agentdb.memory_policies;
DROP FUNCTION agentdb.validate_memory_policy();
"""


def upgrade() -> None:
    run_sql_files(SQL_FILES)
    for name, definition in INDEXES.items():
        create_index_concurrently(name, definition)


def downgrade() -> None:
    for name in INDEXES:
        drop_index_concurrently(name)
    execute_script(DOWNGRADE)
