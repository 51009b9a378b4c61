"""Fixtures: one throwaway PostgreSQL per test run, databases cloned from migrated templates."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.bench.datagen import Dataset, generate
from pyglue.dburl import create_engine_for
from pyglue.testing import PgBouncer, PostgresCluster

SEED = 42
HEAD_TEMPLATE = "template_head"
POPULATED_BASELINE = "template_populated_baseline"
POPULATED_HEAD = "template_populated_head"
BASELINE_TEMPLATE = "template_baseline"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--via-pgbouncer",
        action="store_true",
        help="database URL fixtures go through a real PgBouncer in transaction mode",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--via-pgbouncer"):
        return
    for item in items:
        marker = item.get_closest_marker("direct")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"direct connection only: {reason}"))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    # No autovacuum: a background ANALYZE holding an old snapshot would keep a
    # VACUUM from setting the visibility map, and plans would vary run to run.
    cluster = PostgresCluster(extra_settings={"autovacuum": "off"}).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pgbouncer(
    request: pytest.FixtureRequest, pg_cluster: PostgresCluster
) -> Iterator[PgBouncer | None]:
    """With --via-pgbouncer, a PgBouncer (transaction mode) before the cluster; else None."""
    if not request.config.getoption("--via-pgbouncer"):
        yield None
        return
    bouncer = PgBouncer(pg_cluster).start()
    try:
        yield bouncer
    finally:
        bouncer.stop()


def _route(url: str, bouncer: PgBouncer | None) -> str:
    """The URL tests get: the cluster's, or PgBouncer's with `?pooled=true`."""
    if bouncer is None:
        return url
    pooled = make_url(url).set(port=bouncer.port).update_query_dict({"pooled": "true"})
    return pooled.render_as_string(hide_password=False)


def _migrated_template(cluster: PostgresCluster, name: str, revision: str) -> str:
    engine = create_engine(cluster.create_database(name), poolclass=NullPool)
    try:
        install.upgrade(engine, revision)
    finally:
        engine.dispose()
    return name


@pytest.fixture(scope="session")
def head_template(pg_cluster: PostgresCluster) -> str:
    return _migrated_template(pg_cluster, HEAD_TEMPLATE, "head")


@pytest.fixture(scope="session")
def baseline_template(pg_cluster: PostgresCluster) -> str:
    return _migrated_template(pg_cluster, BASELINE_TEMPLATE, install.BASELINE)


def _clone(
    cluster: PostgresCluster, template: str, bouncer: PgBouncer | None = None
) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = cluster.create_database(name, template=template)
    try:
        yield _route(url, bouncer)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def head_url(
    pg_cluster: PostgresCluster, head_template: str, pgbouncer: PgBouncer | None
) -> Iterator[str]:
    """A fresh database at head, cloned from the migrated template."""
    yield from _clone(pg_cluster, head_template, pgbouncer)


@pytest.fixture
def baseline_url(
    pg_cluster: PostgresCluster, baseline_template: str, pgbouncer: PgBouncer | None
) -> Iterator[str]:
    """A fresh database at the baseline revision."""
    yield from _clone(pg_cluster, baseline_template, pgbouncer)


@pytest.fixture
def empty_url(pg_cluster: PostgresCluster, pgbouncer: PgBouncer | None) -> Iterator[str]:
    """A fresh empty database (no revision installed)."""
    yield from _clone(pg_cluster, "template1", pgbouncer)


@pytest.fixture(scope="session")
def populated_dataset(pg_cluster: PostgresCluster, baseline_template: str) -> Dataset:
    """About 100k skewed executions generated at the baseline (the template stays baseline)."""
    url = pg_cluster.create_database(POPULATED_BASELINE, template=baseline_template)
    return generate(url, "test", seed=SEED)


@pytest.fixture(scope="session")
def populated_head_template(pg_cluster: PostgresCluster, populated_dataset: Dataset) -> str:
    url = pg_cluster.create_database(POPULATED_HEAD, template=POPULATED_BASELINE)
    engine = create_engine(url, poolclass=NullPool)
    try:
        install.upgrade(engine, "head")
    finally:
        engine.dispose()
    with pg_cluster.connect(POPULATED_HEAD) as conn:
        conn.execute("VACUUM (ANALYZE)")  # the steady state autovacuum reaches in production
    return POPULATED_HEAD


@pytest.fixture
def populated_baseline_url(
    pg_cluster: PostgresCluster, populated_dataset: Dataset
) -> Iterator[str]:
    """A fresh copy of the populated database at the baseline revision."""
    yield from _clone(pg_cluster, POPULATED_BASELINE)


@pytest.fixture
def populated_head_url(
    pg_cluster: PostgresCluster, populated_head_template: str, pgbouncer: PgBouncer | None
) -> Iterator[str]:
    """A fresh copy of the populated database upgraded to head."""
    yield from _clone(pg_cluster, populated_head_template, pgbouncer)


@pytest.fixture(scope="session")
def populated_head_readonly_url(
    pg_cluster: PostgresCluster, populated_head_template: str, pgbouncer: PgBouncer | None
) -> str:
    """One shared copy of the populated head database, for tests that only read (EXPLAIN)."""
    name = "populated_head_readonly"
    return _route(pg_cluster.create_database(name, template=populated_head_template), pgbouncer)


@pytest.fixture(scope="session")
def cron_engine(pg_cluster: PostgresCluster) -> Iterator[Engine]:
    """The cluster's cron.database_name database at head with pg_cron (pg_cron works only there).

    Left empty again at the end: jobs unscheduled, the extension dropped,
    every revision downgraded.
    """
    if "pg_cron" not in pg_cluster.preload:
        pytest.skip("pg_cron is not installed on this machine")
    engine = create_engine(pg_cluster.url(pg_cluster.cron_database), poolclass=NullPool)
    install.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION pg_cron"))
    try:
        yield engine
    finally:
        with engine.begin() as conn:
            conn.execute(text("SELECT agentdb.unschedule_maintenance()"))
            conn.execute(text("DROP EXTENSION pg_cron"))
        install.downgrade(engine, "base", drop_platform_tables=True)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()


@pytest.fixture
def engine(head_url: str) -> Iterator[Engine]:
    eng = create_engine_for(head_url)
    try:
        yield eng
    finally:
        eng.dispose()
