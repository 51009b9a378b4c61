"""a cheaper stats fold (issue 11): each batch is one TID range, no ctid array, no temp spill

agentdb.fold_stats_batch picks its batch as the first p_batch_size pending
deltas in physical order (a seq scan with LIMIT gives the last ctid) and
deletes them as one TID range (Tid Range Scan), at one snapshot, so the set
deleted is exactly the set scanned. 0010 built an array of p_batch_size
ctids, sorted it and looked every row up again. The function also runs with
synchronize_seqscans off (the scan must start at block 0) and work_mem 64MB
(a batch's RETURNING rows stayed in a temp file at 4MB). Signature, result,
grants and the batch-size checks are unchanged.

Price: catalog only (CREATE OR REPLACE FUNCTION).

Revision ID: 0019
Revises: 0015
"""

from __future__ import annotations

from pyglue.migration_ops import run_frozen

revision = "0019"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(revision, {"stats/fold_stats_batch.sql": "edd53d317ba2"})


def downgrade() -> None:
    run_frozen(
        revision,
        {
            "downgrade.sql": "8fa3af25821b",
        },
    )
    run_frozen("0010", {"stats/fold_stats_batch.sql": "7afa86de1da3"})
