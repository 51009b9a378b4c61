"""execution stats without hot rows: writers append deltas, a fold moves them, reads add them

The stats triggers no longer update the rollup rows in the writer's
transaction (every writer of one user queued on that user's day row, and
single-run transactions could deadlock). They append signed deltas to
agentdb.agent_stats_deltas / agentdb.workflow_stats_deltas; a fold
(agentdb.fold_execution_stats, pg_cron job agentdb-execution-stats-fold
every minute, and writers about once every thousand deltas when the fold
lock is free) moves them into the rollups in batches; user_dashboard,
user_daily_stats, agent_stats_summary, verify_execution_stats and the new
workflow_stats_now read the rollups plus the user's pending deltas, so they
stay exact at every snapshot. refresh_execution_stats takes the fold lock
and absorbs the pending deltas of its range. Division guards use NULLIF;
raw_*_execution_stats become PL/pgSQL; user_daily_stats no longer loses the
last day in a zone whose DST change falls at midnight.

Price: catalog only, no table is rewritten and every rollup number is kept
(the delta tables start empty). Replacing the six stats triggers (CREATE OR
REPLACE TRIGGER) takes a SHARE ROW EXCLUSIVE lock on agent_executions,
workflow_executions and execution_metrics until the migration commits, which
holds their writers for that moment: run it with a lock_timeout on a busy
database. The downgrade first folds every
pending delta inside its transaction, then restores the triggers that
update the rollups in place.

Revision ID: 0010
Revises: 0009
"""

from pyglue.migration_ops import run_frozen

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = {
    "stats/stats_deltas.sql": "1939ab31508d",
    "stats/fold_stats_batch.sql": "7afa86de1da3",
    "stats/fold_stats_if_free.sql": "c7267759dc6a",
    "stats/fold_execution_stats.sql": "3bdeb1acdb3f",
    "stats/track_agent_execution_stats.sql": "17c80da2dec8",
    "stats/track_execution_metrics_stats.sql": "2c172f614fa6",
    "stats/track_workflow_execution_stats.sql": "413d9a32b815",
    "stats/raw_agent_execution_stats.sql": "097378052158",
    "stats/raw_workflow_execution_stats.sql": "45707cb9a72d",
    "stats/agent_stats_now.sql": "bc04fba2f6bb",
    "stats/user_stats_now.sql": "fd0be711dfb1",
    "stats/workflow_stats_now.sql": "7c192fee368f",
    "stats/refresh_execution_stats.sql": "38a6f0b5ca40",
    "stats/verify_execution_stats.sql": "91faabdde7bd",
    "stats/user_dashboard.sql": "e28075531519",
    "stats/user_daily_stats.sql": "2d287a294622",
    "stats/agent_stats_summary.sql": "7afa3ae62a3a",
    "stats/jobs.sql": "e61e68a99a10",
}


def upgrade() -> None:
    run_frozen(revision, UPGRADE)


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "cf9ce9bac27d"})
    # the versions the earlier revisions installed, from their frozen copies
    run_frozen(
        "0007",
        {
            "stats/track_agent_execution_stats.sql": "a3fdccd2f72d",
            "stats/track_execution_metrics_stats.sql": "faed97878838",
            "stats/track_workflow_execution_stats.sql": "d2bd855510ae",
            "stats/raw_agent_execution_stats.sql": "6dc611ba03e3",
            "stats/raw_workflow_execution_stats.sql": "c5f4688f8a97",
            "stats/refresh_execution_stats.sql": "d88cab050d22",
            "stats/user_dashboard.sql": "a680a7c15b61",
            "stats/user_daily_stats.sql": "d71fe89c22ff",
            "stats/agent_stats_summary.sql": "f2c9fb89e5a8",
        },
    )
    run_frozen("0009", {"stats/verify_execution_stats.sql": "200152f04885"})
