"""memory cleanup in index ranges (issue 15): as fast as the naive DELETE, app writes unblocked

cleanup_expired_memories deletes each batch as one range of the policy's
partial index, keyed by (age, id): a SELECT finds the batch's last row, a
DELETE with the policy's own predicate bounded by that row removes the batch.
0011's batches locked every row first (FOR UPDATE SKIP LOCKED) and deleted by
ctid, which wrote each row twice and works on no distributed table. A row the
app updates meanwhile is re-checked against the policy by the DELETE (a
recalled memory is kept); a deadlock with a multi-row touch_memories reruns
the batch, at most 3 times in all. Signature, result and grants are unchanged.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

from pyglue.migration_ops import run_frozen

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(revision, {"memory/cleanup_expired_memories.sql": "951cc9933ceb"})


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "8a5c394282f7"})
    run_frozen("0011", {"memory/cleanup_expired_memories.sql": "5cb632824d61"})
