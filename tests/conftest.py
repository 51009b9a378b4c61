"""Fixtures: one throwaway PostgreSQL per test run, databases cloned from migrated templates."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from pyglue import install
from pyglue.testing import PostgresCluster

HEAD_TEMPLATE = "template_head"
BASELINE_TEMPLATE = "template_baseline"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


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


def _clone(cluster: PostgresCluster, template: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = cluster.create_database(name, template=template)
    try:
        yield url
    finally:
        cluster.drop_database(name)


@pytest.fixture
def head_url(pg_cluster: PostgresCluster, head_template: str) -> Iterator[str]:
    """A fresh database at head, cloned from the migrated template."""
    yield from _clone(pg_cluster, head_template)


@pytest.fixture
def baseline_url(pg_cluster: PostgresCluster, baseline_template: str) -> Iterator[str]:
    """A fresh database at the baseline revision."""
    yield from _clone(pg_cluster, baseline_template)


@pytest.fixture
def empty_url(pg_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh empty database (no revision installed)."""
    yield from _clone(pg_cluster, "template1")


@pytest.fixture
def engine(head_url: str) -> Iterator[Engine]:
    eng = create_engine(head_url)
    try:
        yield eng
    finally:
        eng.dispose()
