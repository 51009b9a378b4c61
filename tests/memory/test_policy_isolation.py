"""Issue 12, data safety 6: max_age is bounded, and one failing policy does not stop the others."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from factories import add_memories, add_memory_agent, count_memories
from sqlalchemy import Engine, text

from pyglue import maintenance
from pyglue.dburl import libpq_dsn
from pyglue.errors import DatabaseError


def insert_policy(engine: Engine, max_age: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance,"
                " age_basis, max_age) VALUES ('ancient', 'episodic', 'medium', 'created',"
                " CAST(:max_age AS interval))"
            ),
            {"max_age": max_age},
        )


@pytest.mark.parametrize("max_age", ["10000 years", "100 years 1 day", "0", "-1 day"])
def test_max_age_beyond_100_years_is_refused_naming_the_column(
    engine: Engine, max_age: str
) -> None:
    with (
        pytest.raises(psycopg.errors.CheckViolation) as refused,
        psycopg.connect(libpq_dsn(engine.url)) as conn,
    ):
        conn.execute(
            "INSERT INTO agentdb.memory_policies (policy_name, memory_type, age_basis,"
            " max_age) VALUES ('ancient', 'episodic', 'created', %s::interval)",
            [max_age],
        )
    assert refused.value.diag.column_name == "max_age"
    assert str(refused.value.diag.message_primary).startswith(
        "memory_policies.max_age must be an interval greater than zero and at most 100 years, "
    )
    insert_policy(engine, "100 years")


@pytest.fixture
def ancient_policy(engine: Engine) -> uuid.UUID:
    """A policy stored before max_age was bounded (its check bypassed), and expired memories."""
    agent = add_memory_agent(engine)
    with engine.begin() as conn:
        conn.execute(
            text("ALTER TABLE agentdb.memory_policies DISABLE TRIGGER validate_memory_policy")
        )
        insert_policy_sql = (
            "INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance,"
            " age_basis, max_age) VALUES ('ancient', 'episodic', 'medium', 'created',"
            " interval '10000 years')"
        )
        conn.execute(text(insert_policy_sql))
        conn.execute(
            text("ALTER TABLE agentdb.memory_policies ENABLE TRIGGER validate_memory_policy")
        )
        add_memories(conn, 3, type_="short_term", age=timedelta(days=2))
        add_memories(conn, 2, type_="episodic", importance="low", age=timedelta(days=40))
        add_memories(conn, 1, type_="episodic", importance="medium", age=timedelta(days=40))
    return agent


ERROR = "timestamp out of range [SQLSTATE 22008]"


def test_preview_names_the_failing_policy_and_previews_the_others(
    engine: Engine, ancient_policy: uuid.UUID
) -> None:
    previews = {p.policy_name: p for p in maintenance.preview_memory_cleanup(engine)}
    assert {name: (p.rows, p.error) for name, p in previews.items()} == {
        "ancient": (0, ERROR),
        "episodic_low": (2, None),
        "long_term_low": (0, None),
        "short_term": (3, None),
    }
    assert previews["ancient"].cutoff is None


def test_maintenance_cleans_with_the_other_policies_and_names_the_failing_one(
    engine: Engine, ancient_policy: uuid.UUID
) -> None:
    with pytest.raises(DatabaseError) as failed:
        maintenance.run_memory_maintenance(engine)
    assert failed.value.sqlstate == "22008"
    assert str(failed.value) == (
        f"agentdb.run_memory_maintenance: memory policy ancient failed: {ERROR}"
    )
    (run,) = maintenance.last_runs(engine, limit=1)
    assert run.status == "failed"
    assert run.error == f"memory policy ancient failed: {ERROR}"
    assert run.policy_errors == {"ancient": ERROR}
    assert {c.policy_name: c.rows for c in run.deleted} == {
        "episodic_low": 2,
        "long_term_low": 0,
        "short_term": 3,
    }
    assert count_memories(engine) == 1
    with pytest.raises(DatabaseError):
        maintenance.run_memory_maintenance(engine, dry_run=True)
    (dry,) = maintenance.last_runs(engine, limit=1)
    assert (dry.dry_run, dry.status, dry.policy_errors) == (True, "failed", {"ancient": ERROR})
    cleanup = maintenance.cleanup_expired_memories(engine)
    assert [(c.policy_name, c.rows_deleted, c.error) for c in cleanup] == [
        ("ancient", 0, ERROR),
        ("episodic_low", 0, None),
        ("long_term_low", 0, None),
        ("short_term", 0, None),
    ]
