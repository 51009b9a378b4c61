"""Database URLs: `--database-url`, else $DATABASE_URL; postgresql:// means psycopg 3."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pyglue.errors import ConfigurationError

ACCEPTED = ("postgresql", "postgres", "postgresql+psycopg")


def resolve_url(explicit: str | None = None) -> URL:
    """The SQLAlchemy URL to use, with the psycopg 3 driver whatever the scheme said."""
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
    return url.set(drivername="postgresql+psycopg")


def libpq_dsn(url: URL) -> str:
    """The same URL as psycopg.connect() takes it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine_for(explicit: str | None = None, **kwargs: Any) -> Engine:
    """An Engine for `--database-url` / $DATABASE_URL using psycopg 3."""
    return create_engine(resolve_url(explicit), **kwargs)
