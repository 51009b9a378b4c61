"""composite indexes for the execution-history, dashboard and monitoring queries

Built CONCURRENTLY outside the migration transaction, under a lock_timeout,
so the platform keeps writing; an INVALID index left by a failed build is
dropped and built again.

The performance plan's names are kept, but each index is shaped for the
query it serves:

- history pages `WHERE user_id=? AND workflow_id=? [AND status=?]
  ORDER BY started_at DESC, id DESC LIMIT n`: (user_id, workflow_id,
  started_at, id, status) makes them an ordered index scan with keyset
  pagination and no Sort, with or without a status; the status, last, is
  checked inside the index, so rows of other statuses cost no heap visit.
  With (user_id, workflow_id, status) as the plan wrote it, PostgreSQL
  fetches and sorts every matching row: 8x slower than no composite index
  for a heavy user. One index serves both forms, where status before
  started_at would need a twin without it.
- no extended statistics on (user_id, workflow_id): they teach the planner
  that a workflow determines its user, which makes a generic plan (psycopg's
  prepared mode) expect about a hundred rows per pair and pick a bitmap scan
  plus Sort, the very plan this revision removes.
- the stale-run check `status='running' AND started_at < ...` gets a partial
  index over the unfinished statuses only: it stays tiny however long the
  history grows (the query must spell the status as a literal to match it).
- the dashboard's `agent_executions WHERE user_id=? AND started_at >= ?`
  gets (user_id, started_at, id).

Single-column indexes that became a prefix of a composite one (user_id,
session_id) or that no query uses selectively (status) are dropped: each
costs every insert and update of the hottest tables.

Revision ID: 0002
Revises: 0001
"""

from pyglue.migration_ops import create_index_concurrently, drop_index_concurrently

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNFINISHED = "WHERE status IN ('pending', 'running')"

NEW_INDEXES = {
    "ix_workflow_exec_user_workflow_status":
        "ON public.workflow_executions (user_id, workflow_id, started_at, id, status)",
    "ix_workflow_exec_user_started": "ON public.workflow_executions (user_id, started_at, id)",
    "ix_workflow_exec_status_started":
        f"ON public.workflow_executions (status, started_at) {UNFINISHED}",
    "ix_agent_exec_user_agent_started":
        "ON public.agent_executions (user_id, agent_id, started_at, id)",
    "ix_agent_exec_user_started": "ON public.agent_executions (user_id, started_at, id)",
    "ix_agent_exec_session_status": "ON public.agent_executions (session_id, status)",
    "ix_agent_exec_status_started": f"ON public.agent_executions (status, started_at) {UNFINISHED}",
}  # fmt: skip

SUPERSEDED_INDEXES = {
    "ix_workflow_executions_user_id": "ON public.workflow_executions (user_id)",
    "ix_workflow_executions_status": "ON public.workflow_executions (status)",
    "ix_agent_executions_user_id": "ON public.agent_executions (user_id)",
    "ix_agent_executions_session_id": "ON public.agent_executions (session_id)",
    "ix_agent_executions_status": "ON public.agent_executions (status)",
}


def upgrade() -> None:
    for name, definition in NEW_INDEXES.items():
        create_index_concurrently(name, definition)
    for name in SUPERSEDED_INDEXES:
        drop_index_concurrently(name)


def downgrade() -> None:
    for name, definition in SUPERSEDED_INDEXES.items():
        create_index_concurrently(name, definition)
    for name in NEW_INDEXES:
        drop_index_concurrently(name)
