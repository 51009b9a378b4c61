"""execution stats: daily rollups exact in real time, repair, dashboard reads

Creates agent_execution_stats, workflow_execution_stats and
user_execution_stats, the triggers that keep them exact in the writing
transaction, refresh/verify/check routines, the read functions, and the
nightly check job (agentdb-execution-stats-check, 02:00 UTC).

Then backfills existing history a month of started_at at a time, each month
its own transaction (agentdb.refresh_execution_stats, set-based). The
triggers are live before the backfill starts: a write to a month not yet
backfilled lands a delta that the month's refresh then rebuilds from the raw
rows, so nothing written during the upgrade is lost or counted twice.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from datetime import date

from alembic import op

from pyglue.migration_ops import run_sql_files

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JOB_NAME = "agentdb-execution-stats-check"

SQL_FILES = {
    "schema/execution_stats.sql": "1914ca54230b",
    "triggers/track_agent_execution_stats.sql": "a3fdccd2f72d",
    "triggers/track_execution_metrics_stats.sql": "faed97878838",
    "triggers/track_workflow_execution_stats.sql": "d2bd855510ae",
    "functions/raw_agent_execution_stats.sql": "6dc611ba03e3",
    "functions/raw_workflow_execution_stats.sql": "c5f4688f8a97",
    "functions/refresh_execution_stats.sql": "d88cab050d22",
    "functions/verify_execution_stats.sql": "aafe6d9f1f6c",
    "functions/check_execution_stats.sql": "058f05002f60",
    "functions/user_dashboard.sql": "a680a7c15b61",
    "functions/user_daily_stats.sql": "d71fe89c22ff",
    "functions/agent_stats_summary.sql": "f2c9fb89e5a8",
}

# the months holding any raw execution, oldest first
MONTHS_SQL = """
SELECT m::date AS month_start, (m + interval '1 month')::date - 1 AS month_end
  FROM (SELECT min(lo) AS lo, max(hi) AS hi
          FROM (SELECT min(started_at) AS lo, max(started_at) AS hi FROM agent_executions
                UNION ALL
                SELECT min(started_at), max(started_at) FROM workflow_executions) b) r,
       generate_series(date_trunc('month', r.lo), date_trunc('month', r.hi),
                       interval '1 month') AS m
 WHERE r.lo IS NOT NULL
 ORDER BY m
"""


def backfill() -> list[tuple[date, date]]:
    """Rebuild every month of existing history, one committed transaction per month."""
    done: list[tuple[date, date]] = []
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        months = [(row[0], row[1]) for row in bind.exec_driver_sql(MONTHS_SQL)]
        for month_start, month_end in months:
            bind.exec_driver_sql(
                "SELECT agentdb.refresh_execution_stats(%(f)s, %(t)s)",
                {"f": month_start, "t": month_end},
            ).all()
            done.append((month_start, month_end))
    return done


def upgrade() -> None:
    run_sql_files(SQL_FILES)
    op.execute(
        "INSERT INTO agentdb.scheduled_jobs (job_name, schedule, command, description) VALUES ("
        f"'{JOB_NAME}', '0 2 * * *', 'SELECT agentdb.check_execution_stats()', "
        "'Verify yesterday''s execution stats (UTC) against the raw rows and repair any drift')"
    )
    backfill()


def downgrade() -> None:
    # take the job out of pg_cron too when it was scheduled (dynamic: no cron schema without it)
    op.execute(
        f"""
        DO $$
        BEGIN
            IF agentdb.cron_available() THEN
                PERFORM cron.unschedule(jobname) FROM cron.job WHERE jobname = '{JOB_NAME}';
            END IF;
        END
        $$
        """
    )
    op.execute(f"DELETE FROM agentdb.scheduled_jobs WHERE job_name = '{JOB_NAME}'")
    op.execute("DROP TRIGGER agentdb_stats_insert ON agent_executions")
    op.execute("DROP TRIGGER agentdb_stats_update ON agent_executions")
    op.execute("DROP TRIGGER agentdb_stats_insert ON workflow_executions")
    op.execute("DROP TRIGGER agentdb_stats_update ON workflow_executions")
    op.execute("DROP TRIGGER agentdb_stats_insert_delete ON execution_metrics")
    op.execute("DROP TRIGGER agentdb_stats_update ON execution_metrics")
    for signature in (
        "agentdb.check_execution_stats(date)",
        "agentdb.verify_execution_stats(date, date)",
        "agentdb.refresh_execution_stats(date, date)",
        "agentdb.raw_agent_execution_stats(date, date)",
        "agentdb.raw_workflow_execution_stats(date, date)",
        "agentdb.user_dashboard(uuid, integer)",
        "agentdb.user_daily_stats(uuid, date, date)",
        "agentdb.agent_stats_summary(uuid, integer)",
        "agentdb.track_agent_execution_stats()",
        "agentdb.track_execution_metrics_stats()",
        "agentdb.track_workflow_execution_stats()",
    ):
        op.execute(f"DROP FUNCTION {signature}")
    op.execute("DROP TABLE user_execution_stats, agent_execution_stats, workflow_execution_stats")
