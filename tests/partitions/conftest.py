"""The `monthly` fixture: see monthly_tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from monthly_tables import Monthly, build

from pyglue.dburl import connect, create_engine_for


@pytest.fixture
def monthly(head_url: str) -> Iterator[Monthly]:
    conn = connect(head_url, autocommit=True)
    conn.execute("SET timezone = 'UTC'")
    # the generic machinery on the fixture's tables alone: the execution
    # tables' own policies (0016) are tested where they are named
    conn.execute("DELETE FROM agentdb.retention_policies")
    now, months = build(conn)
    engine = create_engine_for(head_url)
    try:
        yield Monthly(conn, engine, now, months)
    finally:
        engine.dispose()
        conn.close()
