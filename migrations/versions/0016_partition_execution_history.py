"""partition the execution history by month, adopting the existing tables online

workflow_executions, agent_executions and execution_metrics become tables
partitioned by RANGE on started_at (timestamp, UTC), one partition per
month, `<table>_pYYYY_MM`, plus `<table>_default` for a row no month holds
(sql/partitions/execution_tables.sql). Retention (0013) then retires a
month by dropping its partitions, and the policies are seeded here: 90
days, 3 months made ahead.

What PostgreSQL requires, and its price:
- the partition key in every unique key: primary keys become (id,
  started_at). An id is still unique (gen_random_uuid), but PostgreSQL only
  enforces it per month; the ORM keeps identifying rows by id alone.
- execution_metrics carries started_at, its execution's, so that a run and
  its metrics share a month: UNIQUE (execution_id, started_at), foreign key
  (execution_id, started_at) ON UPDATE CASCADE ON DELETE CASCADE. Eight
  bytes a row, and a raw-SQL insert of metrics must give started_at (the
  ORM fills it from the execution: pyglue.models).
- agent_executions.workflow_execution_id can no longer be a foreign key (it
  would need the workflow run's started_at): the triggers
  agentdb.check_workflow_execution_reference (SQLSTATE 23503, the old
  constraint's name, FOR KEY SHARE) and
  agentdb.clear_workflow_execution_references (ON DELETE SET NULL) keep the
  contract. A lookup by id alone (the check, moves) probes every
  partition's primary key index.
- a change of started_at into another month moves the row (DELETE from one
  partition, INSERT into another): the stats triggers count the move (an
  AFTER DELETE trigger that finds the id still there removes the old
  contribution), and the metrics row follows by the cascade.
- a query that does not bound started_at reads every partition's index.

Adoption (pyglue.partition_adoption): the tables as they are become one
partition each, `<table>_legacy`, from MINVALUE to the first of the month
after next (or after the latest started_at); no row is copied. Indexes and
constraints are built CONCURRENTLY or NOT VALID then VALIDATEd while the
platform writes; the exclusive locks (one attach, then the swap) are taken
under lock_timeout 2s and retried. Every step commits and is skipped when
already done: an interrupted upgrade resumes when run again. The legacy
partition is retired by retention as a whole once its upper bound is older
than the policy's keep. An empty table (a new database) is dropped, not
attached.

Retention records the upper bound of the latest partition it dropped
(retention_policies.dropped_before): that is the stats horizon now, since a
default partition can hold rows older than every month and an adopted
table starts at MINVALUE.

Downgrade: offline. Plain tables rebuilt by copying every row under an
ACCESS EXCLUSIVE lock; retention policies of the three tables deleted.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import logging

from alembic import op

from pyglue.migration_ops import run_frozen
from pyglue.partition_adoption import adopt
from pyglue.sqlfiles import read_frozen

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PARTITIONED_TABLES = {"partitions/execution_tables.sql": "ed3dd0de639a"}
AFTER_SWAP = {
    "stats/track_workflow_execution_stats.sql": "858864a78aee",
    "stats/track_agent_execution_stats.sql": "06f0d90eda55",
    "stats/track_execution_metrics_stats.sql": "b0240d17cfc6",
    "stats/raw_agent_execution_stats.sql": "43a5b3046a6a",
    "partitions/check_workflow_execution_reference.sql": "eefcbd81fb47",
    "partitions/clear_workflow_execution_references.sql": "2b4233718963",
    "partitions/monthly_partitions.sql": "9fd16cec3c51",
    "partitions/expired_partitions.sql": "b609a3cca136",
    "partitions/retention_horizon.sql": "0cf5297dcf72",
    "partitions/drop_expired_partitions.sql": "8da8f0cb6179",
    "partitions/create_partitions_ahead.sql": "8c4e7d129b05",
    "partitions/seed_policies.sql": "99a6d0b9c2d1",
}


# the live definition of the table upgrade.sql ALTERs (dropped_before)
DECLARED = {"partitions/retention_policies.sql": "281bb39854f4"}


def upgrade() -> None:
    run_frozen(revision, {"upgrade.sql": "e2ed7428e49f"})
    with op.get_context().autocommit_block():
        conn = op.get_bind().connection.driver_connection
        assert conn is not None
        adopt(
            conn,
            "".join(read_frozen(revision, name, pin) for name, pin in PARTITIONED_TABLES.items()),
            [read_frozen(revision, name, pin) for name, pin in AFTER_SWAP.items()],
            log=logging.getLogger(__name__).info,
        )


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "7bd76f40a309"})
    # the versions the earlier revisions installed, from their frozen copies
    run_frozen("0010", {
        "stats/track_workflow_execution_stats.sql": "413d9a32b815",
        "stats/track_agent_execution_stats.sql": "17c80da2dec8",
        "stats/track_execution_metrics_stats.sql": "2c172f614fa6",
        "stats/raw_agent_execution_stats.sql": "097378052158",
    })  # fmt: skip
    run_frozen("0013", {
        "partitions/monthly_partitions.sql": "90978cd4c881",
        "partitions/expired_partitions.sql": "6754f8ad18c2",
        "partitions/retention_horizon.sql": "46c679948a4a",
        "partitions/create_partitions_ahead.sql": "e4a5acc7d098",
        "partitions/drop_expired_partitions.sql": "3ce9e6bf541f",
    })  # fmt: skip
