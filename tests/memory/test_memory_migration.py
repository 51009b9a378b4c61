"""Migration 0006: downgrade removes everything it added, upgrade puts it back."""

from __future__ import annotations

from sqlalchemy import Engine, text

from pyglue import install

OBJECTS = """
SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = 'agentdb'::regnamespace
          AND proname IN ('build_expiry_predicate', 'touch_memories', 'consolidate_memories',
                          'preview_memory_consolidation', 'preview_memory_cleanup',
                          'cleanup_expired_memories', 'run_memory_maintenance',
                          'validate_memory_policy')) AS routines,
       (SELECT count(*) FROM pg_class WHERE relname IN (
          'ix_agent_memories_short_term_created_id', 'ix_agent_memories_long_term_low_accessed_id',
          'ix_agent_memories_episodic_low_created_id', 'ix_agent_memories_short_term_recalled'))
          AS indexes,
       to_regclass('agentdb.memory_policies') IS NOT NULL AS policies,
       (SELECT count(*) FROM agentdb.scheduled_jobs
         WHERE job_name IN ('agentdb-memory-maintenance', 'agentdb-purge-cron-history')) AS jobs,
       has_table_privilege('agentdb_admin', 'agentdb.maintenance_runs', 'INSERT') AS admin_insert
"""


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    with engine.connect() as conn:
        # agentdb_admin writes the run log only through routines (0011)
        assert tuple(conn.execute(text(OBJECTS)).one()) == (8, 4, True, 2, False)
    below = install.script_directory().get_revision("0006").down_revision
    assert isinstance(below, str)
    install.downgrade(engine, below)
    with engine.connect() as conn:
        assert install.current_revision(conn) == below
        assert tuple(conn.execute(text(OBJECTS)).one()) == (0, 0, False, 0, False)
    install.upgrade(engine)
    with engine.connect() as conn:
        # agentdb_admin writes the run log only through routines (0011)
        assert tuple(conn.execute(text(OBJECTS)).one()) == (8, 4, True, 2, False)
