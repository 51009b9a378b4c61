"""routine hygiene: one way to register jobs, search_path pinned everywhere, a clean lint

- agentdb.register_job / agentdb.unregister_job: revision 0004 now installs
  them and every revision registers and unregisters its jobs through them. A
  database that reached 0008 before gets them here, with the registry's new
  comment, cron_available() no longer executable by PUBLIC and
  unschedule_maintenance() without its unread variable; a fresh
  install already has those and they change nothing there. The downgrade
  keeps them: 0004 owns them, and the downgrades of 0006 to 0008 call
  unregister_job.
- run_memory_maintenance pins search_path = pg_catalog, pg_temp at the start
  of each of its transactions (it COMMITs, so it cannot carry SET search_path).
- verify_execution_stats casts its jsonb constants, and perf_stats reads its
  rows into its output columns, so plpgsql_check finds nothing in any routine.

Price: catalog changes only, no table is touched; replacing a routine takes
a brief lock on it.

Revision ID: 0009
Revises: 0008
"""

from pyglue.migration_ops import run_frozen

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(
        revision,
        {
            "core/register_job.sql": "2e5f46073e32",
            "core/unregister_job.sql": "cf57c0603514",
            "core/unschedule_maintenance.sql": "65f2e5f6bb5e",
            "memory/run_memory_maintenance.sql": "ffad67c83215",
            "stats/verify_execution_stats.sql": "200152f04885",
            "monitoring/perf_stats.sql": "4fd61dd8ea54",
            "upgrade.sql": "da5a3529786f",
        },
    )


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "35fb7394b667"})
    # the versions the earlier revisions installed, from their frozen copies
    run_frozen("0006", {"memory/run_memory_maintenance.sql": "e2b6846be1eb"})
    run_frozen("0007", {"stats/verify_execution_stats.sql": "aafe6d9f1f6c"})
    run_frozen("0008", {"monitoring/perf_stats.sql": "413846ba425d"})
