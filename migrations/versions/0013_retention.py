"""retention (issue 13, parts 2 and 3): time-partitioned history kept bounded by dropping months

Generic over any table partitioned by RANGE on one timestamp column, by
month (partitions <table>_pYYYY_MM, bounds the first of a month UTC, no
default partition), as revision 0012 partitions workflow_executions,
agent_executions and execution_metrics.

- agentdb.retention_policies (table_name regclass, keep default 90 days,
  premake default 3 months; agentdb_admin edits it; a keep NULL, under 1 day
  or over 100 years, a premake outside 1..24, or a table that is not range
  partitioned on a timestamp column is refused naming the column). Seeded
  for the three execution tables only when they are partitioned: before
  0012 nothing is seeded and retention has nothing to do.
- Upkeep: agentdb.create_partitions_ahead keeps the current month and
  `premake` months ahead created, through pg_partman 4.7's run_maintenance
  when the extension is installed (the table registered in part_config with
  the same naming, no default partition, retention left NULL), else by
  CREATE TABLE ... PARTITION OF (agentdb.partman_available(), at run time).
- Retention: agentdb.expired_partitions / preview_retention /
  drop_expired_partitions and the procedure run_retention_maintenance
  (advisory-locked, logged in agentdb.maintenance_runs, dry run), job
  agentdb-retention-maintenance daily 04:15 UTC. A month goes in one
  transaction: a referencing table's partition (execution_metrics) is
  dropped first, then the referenced one (agent_executions) is DETACHed and
  dropped (PostgreSQL refuses to DROP a partition a foreign key depends on,
  which is also why pg_partman's own retention is not used), each under a
  lock_timeout. The partition holding the current month is never dropped.
- Stats: agentdb.retention_horizon() (the latest lower bound of the policy
  tables' oldest partitions); verify_execution_stats starts there,
  check_execution_stats skips a day before it, refresh_execution_stats
  refuses one: the rollups keep the history of dropped months.

Price: nothing for a table without a policy. A drop holds an ACCESS
EXCLUSIVE lock on the parent for a metadata change (milliseconds whatever
the month's size), bounded by the lock_timeout.

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

from pyglue.migration_ops import run_frozen

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = {
    "partitions/partman_available.sql": "0d57a384abcb",
    "partitions/monthly_partitions.sql": "90978cd4c881",
    "partitions/retention_policies.sql": "f2871c25a434",
    "partitions/validate_retention_policy.sql": "d1d7ca392c44",
    "partitions/expired_partitions.sql": "6754f8ad18c2",
    "partitions/drop_expired_partitions.sql": "3ce9e6bf541f",
    "partitions/preview_retention.sql": "8330e98903f4",
    "partitions/create_partitions_ahead.sql": "e4a5acc7d098",
    "partitions/retention_horizon.sql": "46c679948a4a",
    "partitions/run_retention_maintenance.sql": "5c624e98ca32",
    "partitions/seed_policies.sql": "3408d3d1562b",
    "partitions/jobs.sql": "987303384535",
    "stats/verify_execution_stats.sql": "9c8ae6bc555c",
    "stats/check_execution_stats.sql": "ad93113dad69",
    "stats/refresh_execution_stats.sql": "8b4f97a27b30",
}


def upgrade() -> None:
    run_frozen(revision, UPGRADE)


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "465e95b00699"})
    # the versions the earlier revisions installed, from their frozen copies
    run_frozen("0010", {"stats/verify_execution_stats.sql": "91faabdde7bd"})
    run_frozen("0011", {"stats/check_execution_stats.sql": "0e5fae2670ea"})
    run_frozen("0010", {"stats/refresh_execution_stats.sql": "38a6f0b5ca40"})
