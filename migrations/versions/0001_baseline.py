"""baseline: the platform's schema as it runs before agentdb

An existing production database adopts agentdb with `alembic stamp 0001`
(or `pyglue install --adopt`), then `pyglue install` upgrades it to head.
Its downgrade drops the platform's tables: refused unless asked for.

Revision ID: 0001
Revises:
"""

from alembic import context
from alembic.util import CommandError

from pyglue.migration_ops import run_frozen

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(revision, {"baseline.sql": "e029c3b241cd"})


def downgrade() -> None:
    # Below the baseline the platform's tables and all their rows go: only when
    # asked (`pyglue.install.downgrade(..., drop_platform_tables=True)`, or
    # `alembic -x drop-platform-tables=yes downgrade base`).
    asked = context.config.attributes.get("drop_platform_tables") or (
        context.get_x_argument(as_dictionary=True).get("drop-platform-tables") == "yes"
    )
    if not asked:
        raise CommandError(
            "refusing to downgrade below the baseline: it drops the platform's tables and "
            "every row in them; pass -x drop-platform-tables=yes to alembic to do it"
        )
    run_frozen(revision, {"downgrade.sql": "e274877ef213"})
