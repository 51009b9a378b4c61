"""Revision 0020 on data: every child gets its parent's user_id, online and resumable."""

from __future__ import annotations

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url

# child -> the join to its parent, aliased c and p
PARENTS = {
    "agent_tools": "agents p ON p.id = c.agent_id",
    "agent_knowledgebases": "agents p ON p.id = c.agent_id",
    "agent_memories": "agents p ON p.id = c.agent_id",
    "agent_blocks": "workflows p ON p.id = c.workflow_id",
    "workflow_edges": "workflows p ON p.id = c.workflow_id",
    "execution_metrics": "agent_executions p ON p.id = c.execution_id"
    " AND p.started_at = c.started_at",
}


def _state(url: str) -> dict[str, tuple[int, int, bool]]:
    """Per child: rows, rows whose user_id is not their parent's, user_id NOT NULL."""
    found = {}
    with psycopg.connect(libpq_dsn(resolve_url(url))) as conn:
        for table, parent in PARENTS.items():
            row = conn.execute(
                f"SELECT count(*), count(*) FILTER (WHERE c.user_id IS DISTINCT FROM p.user_id)"
                f" FROM {table} c JOIN {parent}"
            ).fetchone()
            notnull = conn.execute(
                "SELECT attnotnull FROM pg_attribute WHERE attrelid = %s::regclass"
                " AND attname = 'user_id'",
                (table,),
            ).fetchone()
            assert row is not None
            assert notnull is not None
            found[table] = (int(row[0]), int(row[1]), bool(notnull[0]))
        checks = conn.execute(
            "SELECT count(*) FROM pg_constraint"
            " WHERE conname LIKE 'ck\\_%\\_user\\_id\\_not\\_null'"
        ).fetchone()
        assert checks == (0,)  # the NOT NULL checks are dropped once SET NOT NULL trusted them
    return found


def test_0020_fills_every_child_from_its_parent(populated_baseline_url: str) -> None:
    engine = create_engine(populated_baseline_url, poolclass=NullPool)
    install.upgrade(engine, "0019")
    with psycopg.connect(libpq_dsn(resolve_url(populated_baseline_url))) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone() for table in PARENTS
        }
    install.upgrade(engine, "0020")
    state = _state(populated_baseline_url)
    assert {table: (rows, 0, True) for table, (rows, _, _) in state.items()} == state
    assert {table: (rows,) for table, (rows, _, _) in state.items()} == counts
    assert state["agent_memories"][0] > 10_000  # more than one batch
    assert state["execution_metrics"][0] > 10_000


def test_0020_resumes_an_interrupted_fill(populated_baseline_url: str) -> None:
    """Stopped after the columns were added and part of a table filled: run again, it completes."""
    engine = create_engine(populated_baseline_url, poolclass=NullPool)
    install.upgrade(engine, "0019")
    with psycopg.connect(libpq_dsn(resolve_url(populated_baseline_url))) as conn:
        for table in PARENTS:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN user_id uuid")
        conn.execute(
            "UPDATE agent_memories c SET user_id = p.user_id FROM agents p"
            " WHERE p.id = c.agent_id AND c.id < '80000000-0000-0000-0000-000000000000'"
        )
        conn.execute(
            "ALTER TABLE agent_tools ADD CONSTRAINT ck_agent_tools_user_id_not_null"
            " CHECK (user_id IS NOT NULL) NOT VALID"
        )
    install.upgrade(engine, "0020")
    state = _state(populated_baseline_url)
    assert all(wrong == 0 and notnull for _, wrong, notnull in state.values()), state
