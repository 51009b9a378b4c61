"""agentdb schema: run log, job registry, roles, pg_cron (un)scheduling

Later revisions register their jobs in agentdb.scheduled_jobs;
agentdb.schedule_maintenance() hands them all to pg_cron by name. The roles
agentdb_admin and agentdb_app are cluster-wide, created if missing and kept
on downgrade (other databases of the cluster may use them).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from pyglue.migration_ops import run_sql_files

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_files(
        {
            "schema/agentdb_core.sql": "84006eb60544",
            "functions/begin_run.sql": "76cb4d8fe04f",
            "functions/finish_run.sql": "a78ebf71fd6b",
            "functions/cron_available.sql": "64ef8b082bf3",
            "cron/schedule_maintenance.sql": "c21ef00cca56",
            "cron/unschedule_maintenance.sql": "d9bcd239a913",
        }
    )


def downgrade() -> None:
    op.execute("SELECT agentdb.unschedule_maintenance()")
    op.execute("DROP SCHEMA agentdb CASCADE")
