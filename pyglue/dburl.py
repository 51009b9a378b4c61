"""Database URLs: `--database-url`, else $DATABASE_URL; postgresql:// means psycopg 3.

`?pooled=true` on a URL says a transaction pooler (PgBouncer in transaction
mode) stands between us and PostgreSQL: pyglue strips the parameter and
turns psycopg's server-side prepared statements off (`prepare_threshold=None`),
since the next transaction may run on another server connection.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pyglue.errors import ConfigurationError

ACCEPTED = ("postgresql", "postgres", "postgresql+psycopg")
POOLED = "pooled"
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def resolve_url(explicit: str | URL | None = None) -> URL:
    """The SQLAlchemy URL to use, with the psycopg 3 driver whatever the scheme said."""
    if isinstance(explicit, URL):
        explicit = explicit.render_as_string(hide_password=False)
    raw = explicit or os.environ.get("DATABASE_URL")
    if not raw:
        raise ConfigurationError("no database: pass --database-url URL or set DATABASE_URL")
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise ConfigurationError(f"not a database URL: {raw!r}") from exc
    if url.drivername not in ACCEPTED:
        raise ConfigurationError(
            f"unsupported URL scheme {url.drivername!r}: use postgresql:// or postgresql+psycopg://"
        )
    is_pooled(url)  # refuses a `pooled` value that is neither true nor false
    return url.set(drivername="postgresql+psycopg")


def is_pooled(url: URL | str) -> bool:
    """Whether the URL says `?pooled=true` (a transaction pooler before the server)."""
    url = make_url(url)
    raw = url.query.get(POOLED, "false")
    value = (raw if isinstance(raw, str) else raw[-1]).lower()
    if value not in _TRUE + _FALSE:
        raise ConfigurationError(f"?{POOLED}= takes true or false, not {value!r}")
    return value in _TRUE


def libpq_dsn(url: URL | str) -> str:
    """The same URL as psycopg.connect() takes it (without pyglue's own `pooled`)."""
    url = make_url(url).difference_update_query([POOLED])
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str | URL, **kwargs: Any) -> psycopg.Connection[Any]:
    """A plain psycopg connection for a URL (`?pooled=true`: prepare_threshold=None)."""
    if is_pooled(url):
        kwargs["prepare_threshold"] = None
    conn: psycopg.Connection[Any] = psycopg.connect(libpq_dsn(url), **kwargs)
    return conn


def create_engine_for(explicit: str | URL | None = None, **kwargs: Any) -> Engine:
    """An Engine for `--database-url` / $DATABASE_URL using psycopg 3.

    A `?pooled=true` URL gets `prepare_threshold=None`: no prepared statement
    outlives the transaction that a transaction pooler gives one server for.
    """
    url, kwargs = _engine_arguments(explicit, kwargs)
    return create_engine(url, **kwargs)


def create_async_engine_for(explicit: str | URL | None = None, **kwargs: Any) -> AsyncEngine:
    """The asyncio counterpart of create_engine_for (the same `?pooled=true`)."""
    url, kwargs = _engine_arguments(explicit, kwargs)
    return create_async_engine(url, **kwargs)


def _engine_arguments(
    explicit: str | URL | None, kwargs: dict[str, Any]
) -> tuple[URL, dict[str, Any]]:
    url = resolve_url(explicit)
    if is_pooled(url):
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args["prepare_threshold"] = None
        kwargs["connect_args"] = connect_args
    return url.difference_update_query([POOLED]), kwargs
