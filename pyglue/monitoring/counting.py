"""count_queries: how many statements a block of code sends (Django's assertNumQueries)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from pyglue.monitoring._engines import sync_target
from pyglue.monitoring.statement_shapes import normalize


@dataclass
class QueryCounter:
    """The statements seen so far: each cursor execution counts one (executemany too)."""

    statements: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def shapes(self) -> list[str]:
        """The statements normalized (values as ?), in order."""
        return [normalize(s) for s in self.statements]

    def _on_execute(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
        executemany: bool,
    ) -> None:  # fmt: skip
        with self._lock:
            self.statements.append(statement)


@contextmanager
def count_queries(engine_or_connection: Any) -> Iterator[QueryCounter]:
    """Count the statements sent inside the block, on an engine or on one connection.

    `counter.count` is the number of cursor executions (a failed statement
    counts: it reached the server), `counter.statements` their SQL text as
    sent, with placeholders, never parameters. On an Engine every connection
    counts, in every thread; pass a Connection to count only that one.
    """
    target = sync_target(engine_or_connection, "engine_or_connection")
    counter = QueryCounter()
    event.listen(target, "before_cursor_execute", counter._on_execute)
    try:
        yield counter
    finally:
        event.remove(target, "before_cursor_execute", counter._on_execute)
