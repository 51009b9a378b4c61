"""agentdb on Citus: a coordinator and two workers, the database distributed by user_id.

The same assertions as the single-node tests of these routines (stats path
and repair, dashboards, documents, memory maintenance, status and table
health), on the database `pyglue install --citus` converted. Skipped unless
PYGLUE_CITUS=1 and the citus extension is installed (tests/citus/conftest.py).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import tuple_row
from queries.orm_children import expected, fixed_ids, snapshot, write_with_orm
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from stats.stats_expected import (
    RawExecution,
    expected_agents,
    expected_daily,
    expected_dashboard,
    normalize,
    normalized,
)

from pyglue import install, maintenance, memory, retention, stats, status
from pyglue.dburl import libpq_dsn
from pyglue.errors import ConfigurationError
from pyglue.queries import agent_document_stmt, workflow_document_stmt

PLATFORM_CHILDREN = (
    "agent_tools", "agent_knowledgebases", "agent_memories", "agent_blocks",
    "workflow_edges", "execution_metrics",
)  # fmt: skip


def connect(engine: Engine) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(libpq_dsn(engine.url), autocommit=True)


def rows(conn: psycopg.Connection[Any], query: str, params: Any = None) -> list[tuple[Any, ...]]:
    return conn.cursor(row_factory=tuple_row).execute(query, params).fetchall()


def add_user(conn: psycopg.Connection[Any], name: str) -> uuid.UUID:
    user = uuid.uuid4()
    conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user, f"{name}@example.com"))
    return user


def add_agent(conn: psycopg.Connection[Any], user: uuid.UUID, name: str) -> uuid.UUID:
    agent = uuid.uuid4()
    conn.execute("INSERT INTO agents (id, user_id, name) VALUES (%s, %s, %s)", (agent, user, name))
    return agent


def raw_executions(conn: psycopg.Connection[Any]) -> list[RawExecution]:
    """stats_expected.raw_executions, joined on the composite key Citus can join on."""
    found = rows(
        conn,
        "SELECT e.id, e.agent_id, e.user_id, e.status, e.started_at, e.duration_ms,"
        "       m.total_tokens, m.llm_call_count, m.cost"
        "  FROM agent_executions e"
        "  LEFT JOIN execution_metrics m ON m.user_id = e.user_id AND m.execution_id = e.id",
    )
    return [RawExecution(*row) for row in found]


def add_metrics(
    conn: psycopg.Connection[Any],
    user: uuid.UUID,
    run: uuid.UUID,
    calls: int,
    tokens: int,
    cost: Decimal,
) -> None:
    """A run's metrics row, with its run's started_at when the history is partitioned (0016)."""
    partitioned = rows(
        conn,
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'execution_metrics'::regclass"
        " AND attname = 'started_at' AND NOT attisdropped",
    ) == [(1,)]
    started = ", started_at" if partitioned else ""
    conn.execute(
        f"INSERT INTO execution_metrics (user_id, execution_id{started},"
        " llm_call_count, total_tokens, cost)"
        f" SELECT e.user_id, e.id{', e.started_at' if partitioned else ''}, %s, %s, %s"
        " FROM agent_executions e WHERE e.user_id = %s AND e.id = %s",
        (calls, tokens, cost, user, run),
    )


def today(conn: psycopg.Connection[Any]) -> date:
    day: date = rows(conn, "SELECT (timezone('utc', now()))::date")[0][0]
    return day


def populate(conn: psycopg.Connection[Any], users: int = 4) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Users with two agents each and runs over five days: inserts, completions, moves, metrics."""
    now = datetime.combine(today(conn), datetime.min.time()) + timedelta(hours=12)
    agents: dict[uuid.UUID, list[uuid.UUID]] = {}
    for u in range(users):
        user = add_user(conn, f"user{u}")
        agents[user] = [add_agent(conn, user, f"agent{u}-{a}") for a in range(2)]
        workflow = uuid.uuid4()
        conn.execute(
            "INSERT INTO workflows (id, user_id, name, graph_definition) VALUES (%s, %s, %s, '{}')",
            (workflow, user, f"flow{u}"),
        )
        for n in range(10):
            run = uuid.uuid4()
            agent = agents[user][n % 2]
            conn.execute(
                "INSERT INTO agent_executions (id, agent_id, user_id, status, started_at)"
                " VALUES (%s, %s, %s, 'running', %s)",
                (run, agent, user, now - timedelta(days=n % 5, minutes=n)),
            )
            status_ = ("completed", "failed", "cancelled", "completed", "running")[n % 5]
            conn.execute(
                "UPDATE agent_executions SET status = %s, duration_ms = %s"
                " WHERE user_id = %s AND id = %s",
                (status_, None if status_ == "running" else 100 * (n + 1), user, run),
            )
            if n % 3 == 0:
                add_metrics(conn, user, run, n + 1, 10 * (n + 1), Decimal("0.25") * (n + 1))
            if n < 3:  # workflow runs: started, then finished (n == 2 stays running)
                workflow_run = uuid.uuid4()
                conn.execute(
                    "INSERT INTO workflow_executions (id, workflow_id, user_id, status, started_at)"
                    " VALUES (%s, %s, %s, 'running', %s)",
                    (workflow_run, workflow, user, now - timedelta(days=n)),
                )
                if n < 2:
                    conn.execute(
                        "UPDATE workflow_executions SET status = %s, duration_ms = %s"
                        " WHERE user_id = %s AND id = %s",
                        (("completed", "failed")[n], 1000 * (n + 1), user, workflow_run),
                    )
            if n == 7:  # moved to another day and agent: its whole contribution moves
                conn.execute(
                    "UPDATE agent_executions SET started_at = started_at - interval '1 day',"
                    " agent_id = %s, duration_ms = 5 WHERE user_id = %s AND id = %s",
                    (agents[user][0], user, run),
                )
    return agents


def test_conversion_distributes_every_user_table_colocated_and_keeps_references(
    citus: Engine,
) -> None:
    with connect(citus) as conn:
        tables = dict(
            rows(
                conn,
                "SELECT t.table_name::text, t.citus_table_type || ':' || t.distribution_column"
                " FROM citus_tables t JOIN pg_class c ON c.oid = t.table_name"
                " WHERE NOT c.relispartition",
            )
        )
        assert tables.pop("users") == "reference:<none>"
        assert tables.pop("agentdb.memory_policies") == "reference:<none>"
        assert set(tables.values()) == {"distributed:user_id"}
        with_user_id = {
            name
            for (name,) in rows(
                conn,
                "SELECT c.oid::regclass::text FROM pg_class c"
                " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id'"
                " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
                "   AND c.relnamespace IN ('public'::regnamespace, 'agentdb'::regnamespace)"
                "   AND c.oid <> 'users'::regclass",
            )
        }
        assert set(tables) == with_user_id
        assert set(PLATFORM_CHILDREN) <= with_user_id
        assert rows(
            conn,
            "SELECT count(DISTINCT colocation_id) FROM citus_tables"
            " WHERE citus_table_type = 'distributed'",
        ) == [(1,)]
        # every primary key, unique constraint and foreign key of a distributed table holds user_id
        keys_without_user = rows(
            conn,
            "SELECT k.conrelid::regclass::text, k.conname FROM pg_constraint k"
            " JOIN citus_tables t ON t.table_name = k.conrelid::regclass"
            " WHERE t.citus_table_type = 'distributed' AND k.contype IN ('p', 'u', 'f')"
            "   AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = k.conrelid"
            "                   AND a.attname = 'user_id' AND a.attnum = ANY (k.conkey))",
        )
        assert keys_without_user == []
        (metrics_key,) = rows(
            conn,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conname = 'fk_execution_metrics_execution_id_agent_executions'"
            "   AND conparentid = 0",
        )
        assert metrics_key[0].startswith("FOREIGN KEY (user_id, execution_id")
        assert "REFERENCES agent_executions(user_id, id" in metrics_key[0]
        assert "ON DELETE CASCADE" in metrics_key[0]
        # email stays unique on the reference table
        add_user(conn, "twice")
        with pytest.raises(psycopg.errors.UniqueViolation):
            add_user(conn, "twice")
    again = install.convert_to_citus(citus)
    assert again == "already distributed by user_id: the Citus routines applied again"


def test_set_null_keys_become_triggers_that_do_the_same(citus: Engine) -> None:
    with connect(citus) as conn:
        user = add_user(conn, "owner")
        agent = add_agent(conn, user, "gone")
        workflow, block, run, agent_run = (uuid.uuid4() for _ in range(4))
        conn.execute(
            "INSERT INTO workflows (id, user_id, name, graph_definition)"
            " VALUES (%s, %s, 'w', '{}')",
            (workflow, user),
        )
        conn.execute(
            "INSERT INTO agent_blocks (id, user_id, workflow_id, agent_id, type, name)"
            " VALUES (%s, %s, %s, %s, 'agent', 'b')",
            (block, user, workflow, agent),
        )
        conn.execute(
            "INSERT INTO workflow_executions (id, user_id, workflow_id) VALUES (%s, %s, %s)",
            (run, user, workflow),
        )
        kept = add_agent(conn, user, "kept")
        conn.execute(
            "INSERT INTO agent_executions (id, user_id, agent_id, workflow_execution_id)"
            " VALUES (%s, %s, %s, %s)",
            (agent_run, user, kept, run),
        )
        conn.execute("DELETE FROM agents WHERE user_id = %s AND id = %s", (user, agent))
        assert rows(conn, "SELECT id, agent_id FROM agent_blocks") == [(block, None)]
        conn.execute("DELETE FROM workflow_executions WHERE user_id = %s AND id = %s", (user, run))
        assert rows(conn, "SELECT id, workflow_execution_id FROM agent_executions") == [
            (agent_run, None)
        ]
        # the keys are still checked: a block cannot name another user's agent
        stranger = add_agent(conn, add_user(conn, "stranger"), "theirs")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "UPDATE agent_blocks SET agent_id = %s WHERE user_id = %s AND id = %s",
                (stranger, user, block),
            )
        # deleting the user removes every row of theirs (cascade from the reference table)
        conn.execute("DELETE FROM users WHERE id = %s", (user,))
        assert rows(conn, "SELECT count(*) FROM workflows WHERE user_id = %s", (user,)) == [(0,)]
        assert rows(conn, "SELECT count(*) FROM agent_executions") == [(0,)]


def test_stats_write_path_fold_and_dashboards_are_exact(citus: Engine) -> None:
    with connect(citus) as conn:
        agents = populate(conn)
        assert rows(conn, "SELECT count(*) > 0 FROM agentdb.agent_stats_deltas") == [(True,)]
        day = today(conn)
        raw = raw_executions(conn)
        names = dict(rows(conn, "SELECT id, name FROM agents"))

        def check() -> None:
            for user in agents:
                dashboard = stats.user_dashboard(citus, user, 30)
                assert normalize(dashboard) == normalized(expected_dashboard(raw, user, 30, day))
                daily = stats.user_daily_stats(citus, user, day - timedelta(days=6), day)
                assert [normalize(r) for r in daily] == [
                    normalized(e) for e in expected_daily(raw, user, day - timedelta(days=6), day)
                ]
                flows = stats.workflow_daily_stats(citus, user, day - timedelta(days=6), day)
                assert [
                    (r.day, r.execution_count, r.success_count, r.failed_count, r.total_duration_ms)
                    for r in flows
                ] == [
                    (day - timedelta(days=2), 1, 0, 0, 0),
                    (day - timedelta(days=1), 1, 0, 1, 2000),
                    (day, 1, 1, 0, 1000),
                ]
                summary = stats.agent_stats_summary(citus, user, 30)
                assert [normalize(r) for r in summary] == [
                    normalized(e) for e in expected_agents(raw, names, user, 30, day)
                ]

        check()  # pending deltas added at read time
        assert stats.verify_execution_stats(citus, day - timedelta(days=10), day) == []
        stats.fold_execution_stats(citus)
        assert rows(conn, "SELECT count(*) FROM agentdb.agent_stats_deltas") == [(0,)]
        check()  # folded
        assert stats.verify_execution_stats(citus, day - timedelta(days=10), day) == []
        # the dashboards are delegated to the node holding the user's rows
        assert sorted(
            rows(
                conn,
                "SELECT p.proname, o.distribution_argument_index FROM pg_dist_object o"
                " JOIN pg_proc p ON p.oid = o.objid"
                " WHERE o.classid = 'pg_proc'::regclass"
                "   AND o.distribution_argument_index IS NOT NULL",
            )
        ) == [("agent_stats_summary", 0), ("user_daily_stats", 0), ("user_dashboard", 0)]


def test_verify_refresh_and_the_nightly_check_repair_drift(citus: Engine) -> None:
    with connect(citus) as conn:
        agents = populate(conn, users=3)
        stats.fold_execution_stats(citus)
        day = today(conn)
        yesterday = day - timedelta(days=1)
        user = next(iter(agents))
        conn.execute(
            "UPDATE user_execution_stats SET total_tokens = total_tokens + 7"
            " WHERE user_id = %s AND date = %s",
            (user, yesterday),
        )
        conn.execute(
            "UPDATE agent_execution_stats SET avg_duration_ms = -1"
            " WHERE user_id = %s AND date = %s",
            (user, day),
        )
        drift = stats.verify_execution_stats(citus, day - timedelta(days=10), day)
        assert sorted((d.stats_table, d.user_id, d.day) for d in drift) == sorted(
            [("user_execution_stats", user, yesterday)]
            + [
                ("agent_execution_stats", user, day)
                for _ in rows(
                    conn,
                    "SELECT 1 FROM agent_execution_stats WHERE user_id = %s AND date = %s",
                    (user, day),
                )
            ]
        )
        drifted = next(d for d in drift if d.stats_table == "user_execution_stats")
        assert drifted.stored["total_tokens"] == drifted.expected["total_tokens"] + 7
        check = stats.check_execution_stats(citus, yesterday)
        assert (check.status, check.rows_differing, check.rows_repaired) == ("succeeded", 1, 1)
        # a run moved to another agent and day leaves its old key's row at zero: refresh deletes it
        emptied = rows(conn, "SELECT count(*) FROM agent_execution_stats WHERE execution_count = 0")
        assert emptied == [(len(agents),)]
        refreshed = stats.refresh_execution_stats(citus, day - timedelta(days=10), day)
        assert {(r.stats_table, r.rows_deleted) for r in refreshed} == {
            ("agent_execution_stats", len(agents)),
            ("user_execution_stats", 0),
            ("workflow_execution_stats", 0),
        }
        assert sum(r.rows_written for r in refreshed) >= 1
        assert stats.verify_execution_stats(citus, day - timedelta(days=10), day) == []
        again = stats.refresh_execution_stats(citus, day - timedelta(days=10), day)
        assert [(r.rows_deleted, r.rows_written) for r in again] == [(0, 0)] * 3
        check = stats.check_execution_stats(citus, yesterday)
        assert (check.status, check.rows_differing, check.rows_repaired) == ("succeeded", 0, 0)


def test_documents_are_read_from_the_users_shards(citus: Engine) -> None:
    with connect(citus) as conn:
        user = add_user(conn, "doc")
        agent = add_agent(conn, user, "writer")
        kb = uuid.uuid4()
        conn.execute(
            "INSERT INTO knowledgebases (id, user_id, name) VALUES (%s, %s, 'kb')", (kb, user)
        )
        conn.execute(
            "INSERT INTO agent_knowledgebases (user_id, agent_id, knowledgebase_id)"
            " VALUES (%s, %s, %s)",
            (user, agent, kb),
        )
        for name in ("b-tool", "a-tool"):
            conn.execute(
                "INSERT INTO agent_tools (user_id, agent_id, name, tool_type)"
                " VALUES (%s, %s, %s, 'http')",
                (user, agent, name),
            )
        workflow = uuid.uuid4()
        conn.execute(
            "INSERT INTO workflows (id, user_id, name, graph_definition)"
            " VALUES (%s, %s, 'flow', '{\"nodes\": []}')",
            (workflow, user),
        )
        blocks = [uuid.uuid4(), uuid.uuid4()]
        for position, block in enumerate(blocks):
            conn.execute(
                "INSERT INTO agent_blocks"
                " (id, user_id, workflow_id, agent_id, type, name, position)"
                " VALUES (%s, %s, %s, %s, 'agent', %s, %s)",
                (block, user, workflow, agent if position == 0 else None, f"b{position}", position),
            )
        conn.execute(
            "INSERT INTO workflow_edges (user_id, workflow_id, source_block_id, target_block_id)"
            " VALUES (%s, %s, %s, %s)",
            (user, workflow, blocks[0], blocks[1]),
        )
        expected_agent = rows(
            conn,
            "SELECT to_jsonb(a) FROM agents a WHERE a.user_id = %s AND a.id = %s",
            (user, agent),
        )[0][0]
    with citus.connect() as connection:
        doc = connection.execute(agent_document_stmt(agent)).scalar_one()
        assert doc is not None
        assert doc["name"] == "writer"
        assert doc["owner"]["email"] == "doc@example.com"
        assert [t["name"] for t in doc["tools"]] == ["a-tool", "b-tool"]
        assert [k["id"] for k in doc["knowledgebases"]] == [str(kb)]
        assert {k: v for k, v in doc.items() if k not in ("owner", "tools", "knowledgebases")} == (
            expected_agent
        )
        flow = connection.execute(workflow_document_stmt(workflow)).scalar_one()
        assert flow is not None
        assert [b["id"] for b in flow["blocks"]] == [str(b) for b in blocks]
        assert len(flow["edges"]) == 1
        assert list(flow["agents"]) == [str(agent)]
        assert flow["agents"][str(agent)] == expected_agent
        assert connection.execute(agent_document_stmt(uuid.uuid4())).scalar_one() is None
        assert connection.execute(workflow_document_stmt(uuid.uuid4())).scalar_one() is None
        language = connection.execute(
            text(
                "SELECT DISTINCT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                " WHERE p.oid IN ('agentdb.agent_document(uuid)'::regprocedure,"
                "                 'agentdb.workflow_document(uuid)'::regprocedure)"
            )
        ).scalar_one()
        assert language == "plpgsql"


def add_old_memories(
    conn: psycopg.Connection[Any], user: uuid.UUID, agent: uuid.UUID, n: int
) -> None:
    conn.execute(
        "INSERT INTO agent_memories (user_id, agent_id, type, importance, content, created_at)"
        " SELECT %s, %s, 'short_term', 'low', 'm' || i,"
        "        timezone('utc', now()) - interval '3 days' + i * interval '1 second'"
        "   FROM generate_series(1, %s) i",
        (user, agent, n),
    )
    conn.execute(  # kept: not expired
        "INSERT INTO agent_memories (user_id, agent_id, type, content)"
        " VALUES (%s, %s, 'short_term', 'new')",
        (user, agent),
    )


def test_memory_cleanup_runs_per_user_in_batches(citus: Engine) -> None:
    with connect(citus) as conn:
        owners = {}
        for name, count in (("few", 3), ("many", 12)):
            user = add_user(conn, name)
            owners[user] = count
            add_old_memories(conn, user, add_agent(conn, user, name), count)
    previews = {p.policy_name: p.rows for p in maintenance.preview_memory_cleanup(citus)}
    assert previews["short_term"] == 15
    with citus.begin() as connection:
        first = maintenance.cleanup_expired_memories(connection, batch_size=5, max_batches=2)
    short = next(r for r in first if r.policy_name == "short_term")
    # user order is by id: either 3 then 5, or 5 then 5
    assert (short.batches, short.complete) == (2, False)
    assert short.rows_deleted in (8, 10)
    with citus.begin() as connection:
        rest = maintenance.cleanup_expired_memories(connection, batch_size=5)
    short_rest = next(r for r in rest if r.policy_name == "short_term")
    assert short_rest.complete
    assert short_rest.error is None
    assert short.rows_deleted + short_rest.rows_deleted == 15
    with connect(citus) as conn:
        assert rows(conn, "SELECT content FROM agent_memories ORDER BY 1") == [("new",), ("new",)]
        for user in owners:
            add_old_memories(
                conn, user, rows(conn, "SELECT id FROM agents WHERE user_id = %s", (user,))[0][0], 4
            )
    run = maintenance.run_memory_maintenance(citus, batch_size=3)
    assert run is not None
    assert run.status == "succeeded"
    assert run.counts["deleted"]["short_term"] == 8
    with connect(citus) as conn:
        assert rows(conn, "SELECT count(*) FROM agent_memories") == [(4,)]


def test_status_and_table_health_report_sizes_over_all_shards(citus: Engine) -> None:
    with connect(citus) as conn:
        populate(conn, users=2)
        expected = dict(
            rows(
                conn,
                "SELECT c.relname::text, citus_total_relation_size(c.oid) FROM pg_class c"
                " JOIN citus_tables t ON t.table_name = c.oid::regclass"
                " WHERE c.relnamespace = 'public'::regnamespace",
            )
        )
        health = dict(
            rows(
                conn,
                "SELECT table_name, total_bytes FROM agentdb.table_health()"
                " WHERE kind = 'table' AND schema_name = 'public'",
            )
        )
    assert expected["agents"] > 0
    assert {name: health[name] for name in expected} == expected
    state = status.status(citus)
    shown = {t.name: (t.total_bytes, t.citus) for t in state.tables}
    assert shown["agents"] == (expected["agents"], "distributed")
    assert shown["users"] == (expected["users"], "reference")
    assert any("(distributed, all shards)" in line for line in status.format_status(state))


def test_recall_touches_and_consolidation_promotes_across_shards(citus: Engine) -> None:
    with connect(citus) as conn:
        agents = []
        for name in ("left", "right"):
            user = add_user(conn, name)
            agent = add_agent(conn, user, name)
            agents.append(agent)
            conn.execute(
                "INSERT INTO agent_memories (user_id, agent_id, type, content, access_count,"
                " created_at) VALUES (%s, %s, 'short_term', 'often', 2,"
                " timezone('utc', now()) - interval '13 hours'),"
                " (%s, %s, 'short_term', 'once', 0, timezone('utc', now()) - interval '13 hours')",
                (user, agent, user, agent),
            )
    with Session(citus) as session:
        recalled = memory.recall(session, agents[0])
        assert sorted((m.content, m.access_count) for m in recalled) == [("often", 3), ("once", 1)]
        session.commit()
    assert maintenance.preview_memory_consolidation(citus) == 1
    assert maintenance.consolidate_memories(citus) == 1
    with connect(citus) as conn:
        assert rows(
            conn, "SELECT content, type, access_count FROM agent_memories ORDER BY 1, 3"
        ) == [
            ("often", "short_term", 2),
            ("often", "long_term", 3),
            ("once", "short_term", 0),
            ("once", "short_term", 1),
        ]


def partitioned(conn: psycopg.Connection[Any]) -> bool:
    return rows(
        conn,
        "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'agent_executions'::regclass",
    ) == [(1,)]


def test_a_run_moved_to_another_month_moves_its_stats_and_metrics(citus: Engine) -> None:
    with connect(citus) as conn:
        if not partitioned(conn):
            pytest.skip("the execution history is not partitioned (revision 0016)")
        user = add_user(conn, "mover")
        agent = add_agent(conn, user, "a")
        run = uuid.uuid4()
        day = today(conn)
        conn.execute(
            "INSERT INTO agent_executions (id, agent_id, user_id, status, duration_ms, started_at)"
            " VALUES (%s, %s, %s, 'completed', 40, %s)",
            (run, agent, user, datetime.combine(day, datetime.min.time())),
        )
        add_metrics(conn, user, run, 2, 30, Decimal("1.5"))
        earlier = datetime.combine(day.replace(day=1) - timedelta(days=20), datetime.min.time())
        conn.execute(
            "UPDATE agent_executions SET started_at = %s WHERE user_id = %s AND id = %s",
            (earlier, user, run),
        )
        # the metrics row followed its run into the earlier month (shard names end in _<shard id>)
        ((partition, started),) = rows(
            conn,
            "SELECT tableoid::regclass::text, started_at FROM execution_metrics WHERE user_id = %s",
            (user,),
        )
        assert partition.startswith(f"execution_metrics_p{earlier:%Y_%m}_")
        assert started == earlier
        dashboard = stats.user_dashboard(citus, user, 60)
        assert (dashboard.total, dashboard.total_tokens, dashboard.total_cost) == (
            1,
            30,
            Decimal("1.5"),
        )
        daily = stats.user_daily_stats(citus, user, earlier.date(), day)
        assert [(d.day, d.total, d.total_tokens) for d in daily if d.total] == [
            (earlier.date(), 1, 30)
        ]
        assert stats.verify_execution_stats(citus, earlier.date(), day) == []
        stats.fold_execution_stats(citus)
        assert stats.verify_execution_stats(citus, earlier.date(), day) == []


def test_retention_drops_expired_partitions_on_every_node(citus: Engine) -> None:
    with connect(citus) as conn:
        if not partitioned(conn):
            pytest.skip("the execution history is not partitioned (revision 0016)")
        old = (
            datetime.combine(today(conn).replace(day=1), datetime.min.time()) - timedelta(days=150)
        ).replace(day=1)
        conn.execute("BEGIN")
        conn.execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
        upper = (old + timedelta(days=32)).replace(day=1)
        for table in ("workflow_executions", "agent_executions", "execution_metrics"):
            conn.execute(
                f"CREATE TABLE {table}_p{old:%Y_%m} PARTITION OF {table}"
                f" FOR VALUES FROM ('{old:%Y-%m-%d}') TO ('{upper:%Y-%m-%d}')"
            )
        conn.execute("COMMIT")
        user = add_user(conn, "history")
        agent = add_agent(conn, user, "old")
        runs = [uuid.uuid4() for _ in range(3)]
        for k, run in enumerate(runs):
            conn.execute(
                "INSERT INTO agent_executions"
                " (id, agent_id, user_id, status, duration_ms, started_at)"
                " VALUES (%s, %s, %s, 'completed', 10, %s)",
                (run, agent, user, old + timedelta(days=k)),
            )
            add_metrics(conn, user, run, 1, 5, Decimal("0.5"))
        recent = uuid.uuid4()
        conn.execute(
            "INSERT INTO agent_executions (id, agent_id, user_id, status, started_at)"
            " VALUES (%s, %s, %s, 'running', timezone('utc', now()))",
            (recent, agent, user),
        )
        stats.fold_execution_stats(citus)
        history = rows(
            conn, "SELECT date, execution_count, total_tokens FROM user_execution_stats ORDER BY 1"
        )
        ahead = rows(
            conn,
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'workflow_executions'::regclass ORDER BY c.relname DESC LIMIT 1",
        )[0][0]
        conn.execute(f"DROP TABLE {ahead}")  # the run makes it again
        shards_before = rows(
            conn,
            "SELECT count(*) FROM citus_shards WHERE table_name::text LIKE %s",
            (f"%_p{old:%Y_%m}",),
        )[0][0]
        assert shards_before > 0
    run = retention.run_retention_maintenance(citus)
    assert run is not None
    assert run.status == "succeeded", run
    dropped = {t.table_name: (t.partitions, t.rows) for t in retention.dropped(run)}
    assert dropped["public.agent_executions"] == ((f"public.agent_executions_p{old:%Y_%m}",), 3)
    assert dropped["public.execution_metrics"] == ((f"public.execution_metrics_p{old:%Y_%m}",), 3)
    assert retention.created(run)["public.workflow_executions"] == 1
    with connect(citus) as conn:
        assert rows(
            conn,
            "SELECT count(*) FROM citus_shards WHERE table_name::text LIKE %s",
            (f"%_p{old:%Y_%m}",),
        ) == [(0,)]
        assert rows(conn, "SELECT to_regclass(%s)", (ahead,)) != [(None,)]
        assert rows(conn, "SELECT id FROM agent_executions") == [(recent,)]
        # the rollups keep the dropped months' history; verify starts at the horizon
        assert (
            rows(
                conn,
                "SELECT date, execution_count, total_tokens FROM user_execution_stats ORDER BY 1",
            )
            == history
        )
        horizon = rows(conn, "SELECT agentdb.retention_horizon()")[0][0]
        assert horizon > old.date()
        assert stats.verify_execution_stats(citus, old.date(), today(conn)) == []


def test_pyglue_install_citus_on_a_converted_database_applies_the_routines_again(
    citus: Engine,
) -> None:
    url = citus.url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "pyglue.cli", "install", "--citus", "--database-url", url],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"database at revision {install.head_revision()}",
        "already distributed by user_id: the Citus routines applied again",
    ]


def test_orm_writes_and_the_relation_helpers_return_what_a_single_node_returns(
    citus: Engine, head_url: str
) -> None:
    """The app's code unchanged, only the URL: no user_id passed, the same objects read back."""
    started_at = datetime.utcnow().replace(microsecond=0) - timedelta(hours=1)
    ids = fixed_ids(7)
    single_node = create_engine(head_url, poolclass=NullPool)
    try:
        write_with_orm(single_node, ids, started_at)
        on_single_node = snapshot(single_node, ids)
    finally:
        single_node.dispose()
    write_with_orm(citus, ids, started_at)
    assert snapshot(citus, ids) == on_single_node == expected(ids)
    with connect(citus) as conn:
        for table in PLATFORM_CHILDREN:
            assert rows(conn, f"SELECT DISTINCT user_id FROM {table}") == [(ids.user,)], table
        # what the helpers joined on before 0020, the parent key alone, Citus refuses
        with pytest.raises(psycopg.Error, match="complex joins"):
            conn.execute(
                "SELECT a.id, t.id FROM agents a JOIN generate_series(1, 2) p (n) ON true"
                " LEFT JOIN agent_tools t ON p.n = 1 AND t.agent_id = a.id WHERE a.id = %s",
                (ids.agent,),
            )
        # the single-node triggers are gone: the composite keys refuse another user here
        other = add_user(conn, "other")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "INSERT INTO agent_tools (user_id, agent_id, name, tool_type)"
                " VALUES (%s, %s, 't', 'http')",
                (other, ids.agent),
            )
        assert rows(
            conn,
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'agentdb\\_take\\_user\\_id%%'"
            " OR tgname = 'agentdb_pass_user_id'",
        ) == [(0,)]


def test_revision_0020_on_a_distributed_database(citus: Engine) -> None:
    """Converted before 0020 (the conversion added user_id): the upgrade has nothing to do."""
    install.stamp(citus, "0019")  # the schema is head's: only 0020 can run again on it
    install.upgrade(citus, "0020")
    with connect(citus) as conn:
        assert rows(
            conn,
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'agentdb\\_take\\_user\\_id%%'"
            " OR tgname = 'agentdb_pass_user_id'",
        ) == [(0,)]
    with pytest.raises(ConfigurationError, match="cannot downgrade below 0020 on Citus"):
        install.downgrade(citus, "0019")
    install.stamp(citus, "head")
