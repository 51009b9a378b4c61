"""agentdb schema: run log, job registry, roles, pg_cron (un)scheduling

Later revisions register their jobs with agentdb.register_job() and take
them out with agentdb.unregister_job(); agentdb.schedule_maintenance() hands
the registry to pg_cron by name. The roles agentdb_admin and agentdb_app are
cluster-wide, created if missing and kept on downgrade (other databases of
the cluster may use them).

Revision ID: 0004
Revises: 0003
"""

from pyglue.migration_ops import run_frozen

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(
        revision,
        {
            "core/schema.sql": "c6ffb3e8f72b",
            "core/maintenance_runs.sql": "766a5fcd0292",
            "core/scheduled_jobs.sql": "6ab911ca1632",
            "core/begin_run.sql": "76cb4d8fe04f",
            "core/finish_run.sql": "a78ebf71fd6b",
            "core/cron_available.sql": "e37cffa16f8b",
            "core/register_job.sql": "2e5f46073e32",
            "core/unregister_job.sql": "cf57c0603514",
            "core/schedule_maintenance.sql": "c21ef00cca56",
            "core/unschedule_maintenance.sql": "65f2e5f6bb5e",
        },
    )


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "e4a77ead2f31"})
