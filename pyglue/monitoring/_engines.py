"""Accept sync and async SQLAlchemy objects alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine


def sync_engine(engine: Any, argument: str = "engine") -> Engine:
    """The sync Engine behind an Engine or AsyncEngine; TypeError naming `argument` otherwise."""
    candidate = getattr(engine, "sync_engine", engine)
    if not isinstance(candidate, Engine):
        raise TypeError(
            f"{argument} must be a SQLAlchemy Engine or AsyncEngine, not {type(engine).__name__}"
        )
    return candidate


def sync_target(target: Any, argument: str) -> Engine | Connection:
    """The sync Engine or Connection behind an (Async)Engine or (Async)Connection."""
    candidate = getattr(target, "sync_engine", None) or getattr(target, "sync_connection", None)
    candidate = candidate if candidate is not None else target
    if not isinstance(candidate, Engine | Connection):
        raise TypeError(
            f"{argument} must be a SQLAlchemy Engine, Connection, AsyncEngine or "
            f"AsyncConnection, not {type(target).__name__}"
        )
    return candidate
