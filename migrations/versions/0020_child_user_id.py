"""user_id on every table that reaches its user through a parent, on every deployment

agent_tools, agent_knowledgebases and agent_memories (through their agent),
agent_blocks and workflow_edges (through their workflow) and
execution_metrics (through its execution) get `user_id uuid NOT NULL`, a
copy of their parent's user_id. This is the tenant column Citus
distributes by (pyglue install --citus); Citus's multi-tenant migration
guide adds it to every table on the single node first, so that the app, the
ORM and the query helpers are the same on both: the helpers join a child to
its parent on (user_id, key), which Citus runs on one shard group, and the
ORM fills user_id from the parent on insert (pyglue.models).

Kept equal on a single node by triggers (sql/tenancy/child_user_id.sql):
BEFORE INSERT and BEFORE UPDATE of the parent key or user_id on each child
(agentdb.take_{agent,workflow,execution}_user_id: a missing user_id is the
parent's, a different one is refused with SQLSTATE 23503 naming the column,
a move to another parent takes its user), AFTER UPDATE OF user_id on
agents, workflows and agent_executions (agentdb.pass_*_user_id: the
children follow).

Triggers, not composite foreign keys ((agent_id, user_id) -> agents (id,
user_id) ON UPDATE CASCADE): a composite key needs a unique index on
(id, user_id) of every parent, and on agent_executions that is one more
unique index on (id, started_at, user_id) over every month of the biggest
table, built and written on every run; nor does a key fill a missing
user_id (a NULL passes MATCH SIMPLE), which the app's existing inserts rely
on. Citus gets the composite keys (its conversion adds them) and drops
these triggers.

Price:
- 16 bytes more in every row of the six tables (a uuid plus alignment).
- a child insert, or an update of its parent key or user_id, runs one
  trigger: one lookup of the parent by its primary key, the row the
  foreign key check reads too, locked FOR SHARE instead of the key's FOR
  KEY SHARE: while a transaction writes an agent's memories or tools (a
  workflow's blocks or edges, an execution's metrics), an UPDATE of that
  agent (workflow, execution) waits for it to commit, as it would wait for
  a DELETE. Writers of children of one parent do not wait for each other.
  Measured on agent_memories (100 agents, 2 shared cores, load 2.0): a
  one-row INSERT 0.18-0.20 ms without the trigger, 0.20-0.22 ms with it
  (median of 2,000); 100,000 rows in one INSERT ... SELECT 1.7-1.8 s
  without, 2.9-3.2 s with (about 12 us a row, the parent lookup).
- a change of a parent's user_id updates its children (through their
  foreign key indexes); Citus refuses that change anyway.
- no index is added: a child is found by its parent key's index, and the
  helpers' `child.user_id = parent.user_id` is a filter on the rows that
  index returns. Citus's conversion puts user_id first in every key there.

Online (pyglue.partition_adoption.fill_not_null, as 0016 filled
execution_metrics.started_at): the six columns and the triggers are added
in one short transaction (metadata only, lock_timeout 2s, retried; the
parents locked before the children, in the order the platform writes
them, so that a writer between a run and its metrics cannot deadlock with
it), so every row written from then on has user_id; the existing rows are filled
in batches of 10,000 by id, each batch its own transaction (they fire no
trigger: the update triggers skip a row whose old user_id is NULL); then
CHECK (user_id IS NOT NULL) NOT VALID, VALIDATE (a scan that blocks no
writer), SET NOT NULL (which trusts the check: no scan under the exclusive
lock) and the check dropped. An interrupted upgrade resumes where it
stopped when run again.

Downgrade: triggers, functions and columns dropped (catalog only).

On a database Citus distributes (converted before this revision, which
added the columns NOT NULL): nothing to do; a downgrade is refused, since
user_id is the children's distribution column there.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import logging

from alembic import op

from pyglue.errors import ConfigurationError
from pyglue.migration_ops import run_frozen
from pyglue.partition_adoption import fill_not_null, locked_step
from pyglue.sqlfiles import read_frozen

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TRIGGERS = {"tenancy/child_user_id.sql": "7b64677677f6"}
# the live definition of the table this revision ALTERs (execution_metrics.user_id)
DECLARED = {"partitions/execution_tables.sql": "99a752a699f4"}

# child table -> (the parent's user_id, the parent, the join, the key the
# batches walk, a partition key)
ID = ("id",)
CHILDREN = {
    "agent_tools": ("a.user_id", "public.agents a", "a.id = m.agent_id", ID, None),
    "agent_knowledgebases": ("a.user_id", "public.agents a", "a.id = m.agent_id",
                             ("agent_id", "knowledgebase_id"), None),
    "agent_blocks": ("w.user_id", "public.workflows w", "w.id = m.workflow_id", ID, None),
    "workflow_edges": ("w.user_id", "public.workflows w", "w.id = m.workflow_id", ID, None),
    "agent_memories": ("a.user_id", "public.agents a", "a.id = m.agent_id", ID, None),
    "execution_metrics": (
        "e.user_id", "public.agent_executions e",
        "e.id = m.execution_id AND e.started_at = m.started_at", ID, "started_at",
    ),
}  # fmt: skip
# The parents first, then the children, as the platform writes them (a run,
# then its metrics): a writer holding a parent and waiting for a child this
# step holds would otherwise deadlock with it. SHARE ROW EXCLUSIVE (what
# CREATE TRIGGER takes) lets the foreign key checks' row locks through.
LOCK_IN_WRITE_ORDER = (
    "LOCK TABLE public.agents, public.workflows, public.agent_executions"
    " IN SHARE ROW EXCLUSIVE MODE;\n"
    "LOCK TABLE " + ", ".join(f"public.{t}" for t in CHILDREN) + " IN ACCESS EXCLUSIVE MODE;\n"
)
BATCH = 10_000
LOCK_TIMEOUT = "2s"
RETRIES = 30


# A database converted by `pyglue install --citus` before this revision
# already has the six columns NOT NULL (the conversion added them), and its
# composite keys keep them equal to the parents'; the triggers cannot run
# there (see sql/citus/add_user_id.sql).
def _distributed() -> bool:
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT to_regclass('pg_catalog.pg_dist_partition')").scalar() is None:
        return False
    return bool(
        bind.exec_driver_sql(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition"
            " WHERE logicalrelid OPERATOR(pg_catalog.=) 'public.agents'::pg_catalog.regclass)"
        ).scalar()
    )


def upgrade() -> None:
    log = logging.getLogger(__name__).info
    if _distributed():
        log("distributed by Citus: the children have user_id NOT NULL already")
        return
    with op.get_context().autocommit_block():
        conn = op.get_bind().connection.driver_connection
        assert conn is not None
        missing = [
            table
            for table in CHILDREN
            if conn.execute(
                "SELECT NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = %s::regclass"
                " AND attname = 'user_id' AND NOT attisdropped)",
                (f"public.{table}",),
            ).fetchone()
            == (True,)
        ]
        # lock_timeout comes from locked_step, not from run_frozen's prologue
        triggers = "".join(read_frozen(revision, n, p) for n, p in TRIGGERS.items())
        locked_step(
            conn,
            LOCK_IN_WRITE_ORDER
            + "".join(f"ALTER TABLE public.{t} ADD COLUMN user_id uuid;\n" for t in missing)
            + triggers,
            lock_timeout=LOCK_TIMEOUT, retries=RETRIES, what="user_id columns", log=log,
        )  # fmt: skip
        for table, (value, source, join, key, also_by) in CHILDREN.items():
            notnull = conn.execute(
                "SELECT attnotnull FROM pg_attribute WHERE attrelid = %s::regclass"
                " AND attname = 'user_id'",
                (f"public.{table}",),
            ).fetchone()
            if notnull == (True,):
                continue
            fill_not_null(
                conn, table, "user_id", value, source, join, key=key, also_by=also_by,
                batch=BATCH, lock_timeout=LOCK_TIMEOUT, retries=RETRIES, log=log,
            )  # fmt: skip


def downgrade() -> None:
    if _distributed():
        raise ConfigurationError(
            "cannot downgrade below 0020 on Citus: user_id of the child tables is their "
            "distribution column"
        )
    run_frozen(revision, {"downgrade.sql": "5a1caa74475b"})
