"""baseline: the platform's schema as it runs before agentdb

An existing production database adopts agentdb with `alembic stamp 0001`
(or `pyglue install --adopt`), then `pyglue install` upgrades it to head.

Revision ID: 0001
Revises:
"""

from alembic import op

from pyglue.migration_ops import run_sql_files

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    "agent_memories",
    "execution_metrics",
    "agent_executions",
    "workflow_executions",
    "workflow_edges",
    "agent_blocks",
    "workflows",
    "agent_knowledgebases",
    "knowledgebases",
    "agent_tools",
    "agents",
    "users",
)


def upgrade() -> None:
    run_sql_files({"schema/baseline.sql": "2709faeec102"})


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
