"""A Citus coordinator and two workers on loopback, for tests/citus.

Run with PYGLUE_CITUS=1 on a machine whose PostgreSQL has the citus
extension installed; otherwise every test here is skipped with the reason.
Each node is a throwaway cluster of pyglue.testing (as the unprivileged
server user when we are root) with citus first in shared_preload_libraries.
One database, agentdb at head converted with `pyglue install --citus`, is
shared by the module's tests; a fixture empties its tables before each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.errors import PostgresNotFound
from pyglue.testing import PostgresCluster, extension_installed, find_bindir

DATABASE = "agentdb_citus"
# 4 shards per table instead of Citus' 32: the same placement rules, a faster conversion
CITUS_SETTINGS = {
    "citus.shard_count": "4",
    "max_prepared_transactions": "100",
    "autovacuum": "off",
    # loopback: no TLS (libpq would look for client certificates in the
    # server user's inherited $HOME)
    "citus.node_conninfo": "'sslmode=disable'",
}


def citus_unavailable() -> str | None:
    """Why the Citus tests cannot run here, or None."""
    if os.environ.get("PYGLUE_CITUS") != "1":
        return (
            "set PYGLUE_CITUS=1 to run the Citus tests (they start a coordinator and two workers)"
        )
    try:
        bindir = find_bindir()
    except PostgresNotFound as exc:
        return str(exc)
    if not extension_installed(bindir, "citus"):
        return f"the citus extension is not installed for the PostgreSQL in {bindir}"
    return None


# The partitioned history (revision 0016) gets the two months before this
# one, as a database with some history has: the tests write runs of the last
# days, which then land in months of their own, not in the default partition.
PAST_MONTHS = """
DO $$
DECLARE
    v_table record;
    v_month timestamp;
BEGIN
    FOR v_table IN
        SELECT n.nspname, c.relname, c.oid::regclass AS name
          FROM agentdb.retention_policies r
          JOIN pg_class c ON c.oid = r.table_name
          JOIN pg_namespace n ON n.oid = c.relnamespace
         ORDER BY c.relname <> 'agent_executions', c.relname  -- referenced first
    LOOP
        FOR k IN 1..2 LOOP
            v_month := date_trunc('month', timezone('utc', now())) - make_interval(months => k);
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                v_table.nspname, v_table.relname || '_p' || to_char(v_month, 'YYYY_MM'),
                v_table.name, v_month, v_month + interval '1 month');
        END LOOP;
    END LOOP;
END
$$
"""


@dataclass
class CitusCluster:
    coordinator: PostgresCluster
    workers: list[PostgresCluster]

    def url(self) -> str:
        return self.coordinator.url(DATABASE)


def _node() -> PostgresCluster:
    return PostgresCluster(extra_preload=["citus"], extra_settings=dict(CITUS_SETTINGS)).start()


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[CitusCluster]:
    reason = citus_unavailable()
    if reason is not None:
        pytest.skip(reason)
    nodes: list[PostgresCluster] = []
    try:
        for _ in range(3):
            nodes.append(_node())
        for node in nodes:
            node.create_database(DATABASE)
            with node.connect(DATABASE) as conn:
                conn.execute("CREATE EXTENSION citus")
        coordinator, *workers = nodes
        with coordinator.connect(DATABASE) as conn:
            conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', %s)", (coordinator.port,))
            for worker in workers:
                conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (worker.port,))
        yield CitusCluster(coordinator, workers)
    finally:
        for node in reversed(nodes):
            node.stop()


@pytest.fixture(scope="session")
def citus_engine(citus_cluster: CitusCluster) -> Iterator[Engine]:
    """The coordinator's database at head, converted by `pyglue install --citus`."""
    engine = create_engine(citus_cluster.url(), poolclass=NullPool)
    try:
        install.upgrade(engine)
        install.convert_to_citus(engine)
        with engine.begin() as conn:
            # partitions of tables with a foreign key to a reference table: one connection per node
            conn.execute(text("SET LOCAL citus.multi_shard_modify_mode = 'sequential'"))
            conn.execute(text(PAST_MONTHS))
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def citus(citus_engine: Engine) -> Engine:
    """The converted database with every platform, rollup and delta table emptied."""
    with citus_engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE public.users, public.agents, public.agent_tools, public.knowledgebases,"
                " public.agent_knowledgebases, public.workflows, public.agent_blocks,"
                " public.workflow_edges, public.workflow_executions, public.agent_executions,"
                " public.execution_metrics, public.agent_memories, public.agent_execution_stats,"
                " public.workflow_execution_stats, public.user_execution_stats,"
                " agentdb.agent_stats_deltas, agentdb.workflow_stats_deltas"
            )
        )
    return citus_engine
