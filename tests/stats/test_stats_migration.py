"""Migration 0007: backfill of existing history, downgrade and upgrade again, models agree."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.pool import NullPool
from stats_expected import (
    dsn,
    expected_daily,
    normalize,
    normalized,
    raw_executions,
    utc_today,
)

from pyglue import install, stats
from pyglue.dburl import create_engine_for
from pyglue.models import Base

REVISION = "0007"
STATS_TABLES = {"agent_execution_stats", "workflow_execution_stats", "user_execution_stats"}


def _seed_history(conn: psycopg.Connection[Any], today: Any) -> list[uuid.UUID]:
    """Three users' runs over ~100 days (four calendar months), at the baseline schema."""
    users = [uuid.UUID(int=0x100 + i) for i in range(3)]
    for user_id in users:
        conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user_id, f"{user_id}@x"))
        conn.execute(
            "INSERT INTO agents (user_id, name) "
            "SELECT %s, 'agent ' || g FROM generate_series(1, 3) g",
            (user_id,),
        )
        conn.execute(
            "INSERT INTO workflows (user_id, name, graph_definition) VALUES (%s, 'w', '{}')",
            (user_id,),
        )
    midnight = datetime.combine(today, datetime.min.time())
    conn.execute(
        "INSERT INTO agent_executions (agent_id, user_id, status, started_at, duration_ms) "
        "SELECT a.id, a.user_id, (ARRAY['pending','running','completed','failed','cancelled'])"
        "[1 + (g %% 5)], %s - g * interval '77 minutes', "
        "CASE WHEN g %% 5 >= 2 THEN (g * 37) %% 5000 END "
        "FROM agents a, generate_series(0, 1900) g",
        (midnight + timedelta(hours=23),),
    )
    conn.execute(
        "INSERT INTO execution_metrics (execution_id, llm_call_count, total_tokens, cost) "
        "SELECT id, 2, (abs(hashtext(id::text)) % 4000), (abs(hashtext(id::text)) % 1000) / 1e4 "
        "FROM agent_executions WHERE status = 'completed'"
    )
    conn.execute(
        "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at, duration_ms) "
        "SELECT w.id, w.user_id, 'completed', %s - g * interval '5 hours', g "
        "FROM workflows w, generate_series(0, 480) g",
        (midnight,),
    )
    return users


def test_upgrade_backfills_history_exactly_and_downgrade_round_trips(baseline_url: str) -> None:
    engine = create_engine_for(baseline_url, poolclass=NullPool)
    try:
        with psycopg.connect(dsn(baseline_url), autocommit=True) as conn:
            today = utc_today(conn)
            users = _seed_history(conn, today)
        install.upgrade(engine, REVISION)
        first, last = today - timedelta(days=130), today
        assert stats.verify_execution_stats(engine, first, last) == []
        with psycopg.connect(dsn(baseline_url), autocommit=True) as conn:
            raw = raw_executions(conn)
            months = conn.execute(
                "SELECT count(DISTINCT date_trunc('month', date)) FROM agent_execution_stats"
            ).fetchone()
            assert months is not None
            assert months[0] >= 4
        for user_id in users:
            got = [normalize(r) for r in stats.user_daily_stats(engine, user_id, first, last)]
            assert got == [normalized(r) for r in expected_daily(raw, user_id, first, last)]

        install.downgrade(engine, "0004")
        with psycopg.connect(dsn(baseline_url), autocommit=True) as conn:
            left = conn.execute(
                "SELECT (SELECT count(*) FROM pg_tables WHERE tablename LIKE '%execution_stats'), "
                "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'agentdb_stats%'), "
                "(SELECT count(*) FROM pg_proc WHERE pronamespace = 'agentdb'::regnamespace "
                "   AND proname LIKE '%stat%' OR proname IN ('user_dashboard')), "
                "(SELECT count(*) FROM agentdb.scheduled_jobs)"
            ).fetchone()
            assert left == (0, 0, 0, 0)
        install.upgrade(engine, REVISION)
        assert stats.verify_execution_stats(engine, first, last) == []
    finally:
        engine.dispose()


def test_models_match_the_migrated_stats_tables(head_url: str) -> None:
    engine = create_engine_for(head_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    def table_of(entry: Any) -> str | None:
        item = entry[0] if isinstance(entry, list) else entry
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None) in STATS_TABLES:
                return str(table.name)
            if name in STATS_TABLES:
                return str(name)
        if isinstance(item, tuple) and len(item) > 2 and item[2] in STATS_TABLES:
            return str(item[2])
        return None

    assert [d for d in diff if table_of(d) is not None] == []


def test_the_delta_revision_keeps_every_number_up_and_down(baseline_url: str) -> None:
    engine = create_engine_for(baseline_url, poolclass=NullPool)
    try:
        with psycopg.connect(dsn(baseline_url), autocommit=True) as conn:
            today = utc_today(conn)
            users = _seed_history(conn, today)
        first, last = today - timedelta(days=130), today

        def figures() -> list[Any]:
            return [stats.user_daily_stats(engine, u, first, last) for u in users]

        install.upgrade(engine, "0009")  # rollups updated in the writer's transaction
        assert stats.verify_execution_stats(engine, first, last) == []
        before = figures()
        install.upgrade(engine, "0010")
        assert stats.verify_execution_stats(engine, first, last) == []
        assert figures() == before
        with psycopg.connect(dsn(baseline_url), autocommit=True) as conn:
            conn.execute(  # runs written at head stay pending until a fold
                "UPDATE agent_executions SET status = 'failed', duration_ms = duration_ms + 1"
                " WHERE started_at > %s",
                (datetime.combine(today - timedelta(days=2), datetime.min.time()),),
            )
            pending = conn.execute("SELECT count(*) FROM agentdb.agent_stats_deltas").fetchone()
            assert pending is not None
            assert pending[0] > 0
        after_writes = figures()
        assert after_writes != before
        install.downgrade(engine, "0009")  # folds the pending deltas first
        assert stats.verify_execution_stats(engine, first, last) == []
        assert figures() == after_writes
        install.upgrade(engine, "head")
        assert stats.verify_execution_stats(engine, first, last) == []
        assert figures() == after_writes
    finally:
        engine.dispose()
