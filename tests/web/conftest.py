"""Fixtures: the test database's engine instrumented, and the router over it served for real."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from served import make_app, require_admin, serve
from sqlalchemy import Engine

from pyglue.monitoring import instrument


@pytest.fixture
def instrumented(engine: Engine) -> Engine:
    """The test database's engine, instrumented as the README's app does at startup."""
    instrument(engine)
    return engine


@pytest.fixture
def client(instrumented: Engine) -> Iterator[httpx.Client]:
    """The router over the test database, guarded by `require_admin`, served for real."""
    with serve(make_app(instrumented, admin=require_admin)) as http:
        yield http
