"""one-round-trip documents: agentdb.workflow_document and agentdb.agent_document

The hot reads of the query layer (a whole workflow, an agent with its tools
and knowledgebases) as SQL functions returning jsonb, for apps in other
languages and for paths where three ORM round trips are too many.
pyglue.queries.get_workflow_document / get_agent_document wrap them. The
indexes the query helpers need are already at head (0002, 0003).

Revision ID: 0005
Revises: 0004
"""

from pyglue.migration_ops import run_frozen

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_frozen(
        revision,
        {
            "documents/workflow_document.sql": "9e266756c852",
            "documents/agent_document.sql": "fe853133cbb0",
        },
    )


def downgrade() -> None:
    run_frozen(revision, {"downgrade.sql": "ffb852f13880"})
