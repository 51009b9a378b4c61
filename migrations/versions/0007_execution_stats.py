"""execution stats: daily rollups exact in real time, repair, dashboard reads

Creates agent_execution_stats, workflow_execution_stats and
user_execution_stats, the triggers that keep them exact in the writing
transaction, refresh/verify/check routines, the read functions, and the
nightly check job (agentdb-execution-stats-check, 02:00 UTC, registered with
agentdb.register_job()).

Then backfills existing history a month of started_at at a time, each month
its own transaction (agentdb.refresh_execution_stats, set-based). The
triggers are live before the backfill starts: a write to a month not yet
backfilled lands a delta that the month's refresh then rebuilds from the raw
rows, so nothing written during the upgrade is lost or counted twice.

Precondition: started_at and completed_at are finite ('infinity' fits no
day; '-infinity' made the month-by-month backfill run without end); otherwise
the revision refuses before changing anything, naming the table, the column
and the rows (fix: README, Odd data).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from datetime import date

from alembic import op

from pyglue.migration_ops import require_finite_timestamps, run_frozen

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = {
    "stats/rollup_tables.sql": "2ab5336db03b",
    "stats/track_agent_execution_stats.sql": "a3fdccd2f72d",
    "stats/track_execution_metrics_stats.sql": "faed97878838",
    "stats/track_workflow_execution_stats.sql": "d2bd855510ae",
    "stats/raw_agent_execution_stats.sql": "6dc611ba03e3",
    "stats/raw_workflow_execution_stats.sql": "c5f4688f8a97",
    "stats/refresh_execution_stats.sql": "d88cab050d22",
    "stats/verify_execution_stats.sql": "aafe6d9f1f6c",
    "stats/check_execution_stats.sql": "058f05002f60",
    "stats/user_dashboard.sql": "a680a7c15b61",
    "stats/user_daily_stats.sql": "d71fe89c22ff",
    "stats/agent_stats_summary.sql": "f2c9fb89e5a8",
    "stats/jobs.sql": "27f76f385c9a",
}

# the months holding any raw execution, oldest first (finite times only: the
# precondition refuses others, and this range must end whatever the data)
MONTHS_SQL = """
SELECT m::date AS month_start, (m + interval '1 month')::date - 1 AS month_end
  FROM (SELECT min(lo) AS lo, max(hi) AS hi
          FROM (SELECT min(started_at) AS lo, max(started_at) AS hi FROM public.agent_executions
                 WHERE isfinite(started_at)
                UNION ALL
                SELECT min(started_at), max(started_at) FROM public.workflow_executions
                 WHERE isfinite(started_at)) b) r,
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
    # before anything changes: a run no day can hold is reported, not failed on
    require_finite_timestamps(
        {
            "agent_executions": ("started_at", "completed_at"),
            "workflow_executions": ("started_at", "completed_at"),
        }
    )
    run_frozen(revision, UPGRADE)
    backfill()


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "687274b209a5"})
