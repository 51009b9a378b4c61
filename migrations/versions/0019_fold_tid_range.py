"""stats (issue 11): a cheaper fold (each batch one TID range), reads that never seq-scan the deltas

agentdb.fold_stats_batch picks its batch as the first p_batch_size pending
deltas in physical order (a seq scan with LIMIT gives the last ctid) and
deletes them as one TID range (Tid Range Scan), at one snapshot, so the set
deleted is exactly the set scanned. 0010 built an array of p_batch_size
ctids, sorted it and looked every row up again. The function also runs with
synchronize_seqscans off (the scan must start at block 0) and work_mem 64MB
(a batch's RETURNING rows stayed in a temp file at 4MB). Signature, result,
grants and the batch-size checks are unchanged.

agent_stats_now, user_stats_now and workflow_stats_now run with
enable_seqscan off: the delta tables are queues whose statistics and size
look empty right after a fold, and a session's cached generic plan then
seq-scanned all of a delta table, dead rows included, on every dashboard
read (measured under 16 writers by `pyglue bench stats-writes`). Each of
their scans has an index on (user_id, date).

Price: catalog only (CREATE OR REPLACE FUNCTION).

Revision ID: 0019
Revises: 0016
"""

from __future__ import annotations

from pyglue.migration_ops import run_frozen

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(
        revision,
        {
            "stats/fold_stats_batch.sql": "edd53d317ba2",
            "stats/agent_stats_now.sql": "e0bd259d2cf6",
            "stats/user_stats_now.sql": "3994026bce81",
            "stats/workflow_stats_now.sql": "08a5c4cc9bf0",
        },
    )


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "e6ad939fd227"})
    run_frozen(
        "0010",
        {
            "stats/fold_stats_batch.sql": "7afa86de1da3",
            "stats/agent_stats_now.sql": "bc04fba2f6bb",
            "stats/user_stats_now.sql": "fd0be711dfb1",
            "stats/workflow_stats_now.sql": "7c192fee368f",
        },
    )
