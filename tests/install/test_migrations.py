"""The migration chain: data kept, schemas equal, models in agreement, every revision reversible."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from dbcheck import PARTITION, schema_dump, table_checksums
from sqlalchemy import ForeignKeyConstraint, create_engine, text
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.models import Base


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url, poolclass=NullPool)


def revisions_in_order() -> list[str]:
    return [r.revision for r in reversed(list(install.script_directory().walk_revisions()))]


def test_upgrade_and_downgrade_keep_every_row_and_json_value(populated_baseline_url: str) -> None:
    before = table_checksums(populated_baseline_url)
    assert before["agent_executions"][0] == 100_000
    assert before["workflow_executions"][0] == 100_000
    engine = _engine(populated_baseline_url)
    install.upgrade(engine, "head")
    assert table_checksums(populated_baseline_url) == before
    install.downgrade(engine, install.BASELINE)
    assert table_checksums(populated_baseline_url) == before
    with engine.connect() as conn:
        kinds = conn.execute(
            text(
                "SELECT DISTINCT data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name IN "
                "('configuration', 'graph_definition', 'config', 'sub_blocks', 'input_data')"
            )
        ).scalars()
        assert set(kinds) == {"json"}


def test_fresh_install_equals_baseline_plus_every_upgrade(
    empty_url: str, populated_baseline_url: str
) -> None:
    install.upgrade(_engine(empty_url), "head")
    fresh = schema_dump(empty_url)

    stepwise = _engine(populated_baseline_url)
    for revision in revisions_in_order()[1:]:
        install.upgrade(stepwise, revision)
    # the populated tables became one partition each (0016): their months differ
    assert schema_dump(populated_baseline_url, partitions=False) == schema_dump(
        empty_url, partitions=False
    )

    install.downgrade(stepwise, "base", drop_platform_tables=True)
    install.upgrade(stepwise, "head")
    assert schema_dump(populated_baseline_url) == fresh


def test_every_revision_downgrades_and_upgrades_again(head_url: str) -> None:
    engine = _engine(head_url)
    at_head = schema_dump(head_url)
    revisions = revisions_in_order()
    for previous in reversed(revisions[:-1]):
        install.downgrade(engine, previous)
        with engine.connect() as conn:
            assert install.current_revision(conn) == previous
    install.downgrade(engine, "base", drop_platform_tables=True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('public.agents')")).scalar() is None
    install.upgrade(engine, "head")
    assert schema_dump(head_url) == at_head


def _not_a_partition(name: str | None, kind: str, _parents: object) -> bool:
    """The models describe partitioned tables; their partitions are the database's business."""
    return not (kind == "table" and name is not None and PARTITION.search(name))


def _not_to_a_partition(item: object, _name: object, kind: str, *_: object) -> bool:
    """PostgreSQL keeps a foreign key to a partitioned table as one per partition too."""
    return not (
        isinstance(item, ForeignKeyConstraint) and PARTITION.search(item.referred_table.name)
    )


def test_migrated_schema_agrees_with_the_models(head_url: str) -> None:
    with _engine(head_url).connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": _not_a_partition,
                "include_object": _not_to_a_partition,
            },
        )
        assert compare_metadata(context, Base.metadata) == []


def test_second_install_changes_nothing(head_url: str) -> None:
    before = schema_dump(head_url)
    install.upgrade(_engine(head_url), "head")
    assert schema_dump(head_url) == before


def test_invalid_index_left_by_a_failed_build_is_rebuilt(baseline_url: str) -> None:
    engine = _engine(baseline_url)
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO users (email) VALUES ('a@example.com')"))
        conn.execute(
            text(
                "INSERT INTO agents (user_id, name) SELECT id, 'x' FROM users;"
                "INSERT INTO agent_executions (agent_id, user_id)"
                " SELECT id, user_id FROM agents CROSS JOIN generate_series(1, 2)"
            )
        )
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(Exception, match="could not create unique index"):
            conn.execute(
                text(
                    "CREATE UNIQUE INDEX CONCURRENTLY ix_agent_exec_user_started"
                    " ON agent_executions (user_id)"
                )
            )
    with engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT indisvalid FROM pg_index"
                    " WHERE indexrelid = 'ix_agent_exec_user_started'::regclass"
                )
            ).scalar()
            is False
        )
    install.upgrade(engine, "0002")
    with engine.connect() as conn:
        valid, definition = conn.execute(
            text(
                "SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index"
                " WHERE indexrelid = 'ix_agent_exec_user_started'::regclass"
            )
        ).one()
    assert valid is True
    assert definition.endswith("USING btree (user_id, started_at, id)")
