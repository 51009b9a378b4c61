"""`?pooled=true` URLs and `pyglue status` through a real PgBouncer in transaction mode."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pyglue import cli
from pyglue.dburl import connect, create_engine_for, is_pooled, libpq_dsn
from pyglue.errors import ConfigurationError
from pyglue.testing import PgBouncer, PostgresCluster

pytestmark = pytest.mark.direct(reason="starts its own PgBouncer and compares with direct URLs")


@pytest.fixture
def bouncer(pg_cluster: PostgresCluster) -> Iterator[PgBouncer]:
    started = PgBouncer(pg_cluster, pool_size=2).start()
    try:
        yield started
    finally:
        started.stop()


def _pooler_line(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["status", "--database-url", url]) == 0
    return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("pooler:"))


def test_status_says_whether_it_talks_to_a_pooler(
    head_url: str, bouncer: PgBouncer, capsys: pytest.CaptureFixture[str]
) -> None:
    through = make_url(head_url).set(port=bouncer.port)
    pooled = through.update_query_dict({"pooled": "true"})
    assert _pooler_line(head_url, capsys) == "pooler: none (a direct connection)"
    assert _pooler_line(pooled.render_as_string(hide_password=False), capsys) == (
        "pooler: yes (the server's backend pid is not the connection's); prepared statements off"
    )
    assert _pooler_line(through.render_as_string(hide_password=False), capsys) == (
        "pooler: yes (the server's backend pid is not the connection's);"
        " prepared statements ON: add ?pooled=true to the URL"
    )


def test_pooled_url_turns_prepared_statements_off(head_url: str, bouncer: PgBouncer) -> None:
    url = make_url(head_url).set(port=bouncer.port).update_query_dict({"pooled": "true"})
    assert is_pooled(url)
    engine = create_engine_for(url)
    try:
        for _ in range(20):  # past psycopg's default prepare_threshold of 5
            with engine.begin() as conn:
                raw = conn.connection.driver_connection
                assert isinstance(raw, psycopg.Connection)
                assert raw.prepare_threshold is None
                assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
    finally:
        engine.dispose()
    assert "pooled" not in libpq_dsn(url)
    with psycopg.connect(libpq_dsn(url), prepare_threshold=None) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_direct_url_keeps_prepared_statements(head_url: str) -> None:
    assert not is_pooled(head_url)
    engine = create_engine_for(head_url)
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert isinstance(raw, psycopg.Connection)
            assert raw.prepare_threshold == 5
    finally:
        engine.dispose()


def test_pooled_value_must_be_true_or_false(head_url: str) -> None:
    url = make_url(head_url).update_query_dict({"pooled": "maybe"})
    with pytest.raises(ConfigurationError, match=r"\?pooled= takes true or false, not 'maybe'"):
        create_engine_for(url)


def test_why_prepared_statements_are_off_through_a_transaction_pooler(
    head_url: str, pg_cluster: PostgresCluster
) -> None:
    """Two clients on one server connection: psycopg's names collide unless nothing is prepared."""
    single = PgBouncer(pg_cluster, pool_size=1).start()
    try:
        url = make_url(head_url).set(port=single.port)
        query = "SELECT count(*) FROM users"
        with (
            psycopg.connect(libpq_dsn(url), autocommit=True, prepare_threshold=0) as first,
            psycopg.connect(libpq_dsn(url), autocommit=True, prepare_threshold=0) as second,
        ):
            assert first.execute(query).fetchone() == (0,)  # prepares _pg3_0 on the server
            with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
                second.execute(query)  # the same server connection: _pg3_0 exists already
        pooled = url.update_query_dict({"pooled": "true"})
        with connect(pooled, autocommit=True) as first, connect(pooled, autocommit=True) as second:
            for _ in range(10):
                assert first.execute(query).fetchone() == (0,)
                assert second.execute(query).fetchone() == (0,)
    finally:
        single.stop()
