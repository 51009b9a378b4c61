"""json columns become jsonb; GIN and expression indexes for configuration search

Every json column is converted in place (`USING col::jsonb`), one ALTER per
table so each table is rewritten once, under a lock_timeout so the ALTER
gives up instead of queueing the platform's writes behind it; then each
rewritten table is vacuumed and analyzed. jsonb keeps
every value; it normalises key order and whitespace and keeps the last of
duplicate keys, which is how the platform already reads them.

GIN operator class: jsonb_path_ops. The supported query forms are
containment on the whole column (`configuration @> '{"llm_provider": ...}'`,
`graph_definition @> '{"nodes": [{"type": "agent"}]}'`); jsonb_path_ops
serves exactly `@>` (and jsonpath `@?`/`@@`) with an index about a third of
the size of jsonb_ops and faster lookups, because it hashes whole paths
instead of indexing every key and value separately. Key-existence (`?`) is
not a supported form: a single key is searched through the expression
indexes on `configuration->>'llm_provider'` and `->>'llm_model'`, which
also serve equality with an ordinary btree.

Precondition: every json value converts (jsonb cannot hold \\u0000 nor a
lone surrogate escape); otherwise the revision refuses before changing
anything, naming the table, the column and the rows (fix: README, Odd data).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from pyglue.migration_ops import (
    create_index_concurrently,
    drop_index_concurrently,
    require_jsonb_convertible,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> {column: default}, None where the column has no default
JSON_COLUMNS: dict[str, dict[str, str | None]] = {
    "agents": {"configuration": "'{}'"},
    "agent_tools": {"config": "'{}'"},
    "workflows": {"graph_definition": None},
    "agent_blocks": {"config": "'{}'", "sub_blocks": "'{}'"},
    "workflow_executions": {"input_data": None, "output_data": None},
    "agent_executions": {"input_data": None, "output_data": None},
}

INDEXES = {
    "ix_agents_config_gin": "ON public.agents USING gin (configuration jsonb_path_ops)",
    "ix_workflows_graph_gin": "ON public.workflows USING gin (graph_definition jsonb_path_ops)",
    "ix_agents_llm_provider": "ON public.agents ((configuration ->> 'llm_provider'))",
    "ix_agents_llm_model": "ON public.agents ((configuration ->> 'llm_model'))",
}


def conversion_statements(target: str) -> list[str]:
    """One ALTER TABLE per table, so each table is rewritten once."""
    statements = ["SET LOCAL lock_timeout = '10s'"]
    for table, columns in JSON_COLUMNS.items():
        clauses: list[str] = []
        for column, default in columns.items():
            if default is not None:
                clauses.append(f"ALTER COLUMN {column} DROP DEFAULT")
            clauses.append(f"ALTER COLUMN {column} TYPE {target} USING {column}::{target}")
            if default is not None:
                clauses.append(f"ALTER COLUMN {column} SET DEFAULT {default}::{target}")
        statements.append(f"ALTER TABLE public.{table} " + ", ".join(clauses))
    return statements


def _convert(target: str) -> None:
    for statement in conversion_statements(target):
        op.execute(statement)
    # A rewrite leaves the visibility map empty and drops the converted
    # columns' statistics; until autovacuum comes (it waits for 20% new rows)
    # index-only scans would visit the heap and the planner would misjudge.
    with op.get_context().autocommit_block():
        for table in JSON_COLUMNS:
            op.execute(f"VACUUM (ANALYZE) public.{table}")


def upgrade() -> None:
    # before anything changes: a value jsonb cannot hold is reported, not failed on
    require_jsonb_convertible({table: tuple(columns) for table, columns in JSON_COLUMNS.items()})
    _convert("jsonb")
    for name, definition in INDEXES.items():
        create_index_concurrently(name, definition)


def downgrade() -> None:
    for name in INDEXES:
        drop_index_concurrently(name)
    _convert("json")
