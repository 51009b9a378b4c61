"""baseline: the platform's schema as it runs before agentdb

An existing production database adopts agentdb with `alembic stamp 0001`
(or `pyglue install --adopt`), then `pyglue install` upgrades it to head.

Revision ID: 0001
Revises:
"""

from pyglue.migration_ops import run_frozen

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(revision, {"baseline.sql": "e029c3b241cd"})


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "e274877ef213"})
