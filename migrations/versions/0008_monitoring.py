"""monitoring: agentdb.slow_queries (bounded), perf_stats, table_health

The slow-query log that pyglue.monitoring writes through
agentdb.record_slow_query(), its hourly purge job (registered with
agentdb.register_job()), and two read functions for DBAs:
agentdb.perf_stats() over pg_stat_statements (optional extension) and
agentdb.table_health() over the statistics views.

Revision ID: 0008
Revises: 0007
"""

from pyglue.migration_ops import run_frozen

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = {
    "monitoring/slow_queries.sql": "5c192ff7fe1c",
    "monitoring/record_slow_query.sql": "3b85049ba498",
    "monitoring/purge_slow_queries.sql": "912a3b7899c2",
    "monitoring/perf_stats.sql": "413846ba425d",
    "monitoring/table_health.sql": "2f202a92ba94",
    "monitoring/jobs.sql": "575ac000f445",
}


def upgrade() -> None:
    run_frozen(revision, UPGRADE)


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "e5e893ebc7f0"})
