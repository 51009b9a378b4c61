"""pool_status: how many connections the engine's pool holds, lends and may still open."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.pool import QueuePool

from pyglue.monitoring._engines import sync_engine


@dataclass(frozen=True)
class PoolStatus:
    """The pool of one engine.

    size: connections the pool keeps (pool_size); max_overflow: how many more
    it may open (None: unlimited); checked_out: lent to the app now;
    checked_in: idle in the pool; overflow: open beyond `size` now;
    utilization: checked_out / (size + max_overflow), or / size when the
    overflow is unlimited. Exact for QueuePool (and its async variant); for
    other pools checked_out comes from the instrumentation's checkout and
    checkin events when the engine is instrumented (exact=True), else 0.
    """

    pool_class: str
    size: int
    max_overflow: int | None
    checked_out: int
    checked_in: int
    overflow: int
    utilization: float | None
    exact: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pool_status(engine: Any) -> PoolStatus:
    """The pool numbers of `engine` (Engine or AsyncEngine) at this moment."""
    target = sync_engine(engine)
    pool = target.pool
    name = type(pool).__name__
    if isinstance(pool, QueuePool):
        size = pool.size()
        max_overflow: int | None = pool._max_overflow if pool._max_overflow >= 0 else None
        checked_out = pool.checkedout()
        checked_in = pool.checkedin()
        # QueuePool counts overflow from -size (connections not yet opened)
        overflow = max(0, pool.overflow())
        capacity = size + max_overflow if max_overflow is not None else size
        return PoolStatus(
            name, size, max_overflow, checked_out, checked_in, overflow,
            checked_out / capacity if capacity else None, True,
        )  # fmt: skip
    from pyglue.monitoring.instrument import instrumentation_for

    inst = instrumentation_for(target)
    checked_out = max(0, inst.checkouts - inst.checkins) if inst is not None else 0
    return PoolStatus(name, 0, None, checked_out, 0, 0, None, inst is not None)
