"""`pyglue bench instrument-overhead`: what pyglue.monitoring.instrument costs per statement.

The same workload runs on two engines of one database, one plain and one
instrumented (N+1 detector on, no warning firing). Each round runs it once
on each engine, interleaved in units of 100 statements (one connection
checkout each) in alternating order, so drift (table state, other load on
the machine) hits both alike. The workload is the worst case for relative
overhead: short primary-key reads over a local socket. Besides the ratio of
the summed times (goal <= 1.05) come two steadier estimates for a busy
machine: the median ratio of paired units and the ratio of the fastest units.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from pyglue.bench import output
from pyglue.bench.timing import percentile
from pyglue.monitoring import instrument

METADATA = sa.MetaData()
ITEMS = sa.Table(
    "overhead_items",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
)
ROWS = 1000
PER_UNIT = 100
READ = sa.select(ITEMS.c.name).where(ITEMS.c.id == sa.bindparam("id"))
WRITE = sa.update(ITEMS).where(ITEMS.c.id == sa.bindparam("key")).values(hits=ITEMS.c.hits + 1)


@dataclass
class Totals:
    """Wall and client-CPU seconds of one engine in one round, and every unit's wall time."""

    wall: float = 0.0
    cpu: float = 0.0
    units: list[float] = field(default_factory=list)


def _unit(engine: Engine, first: int, totals: Totals) -> None:
    """One unit of work: PER_UNIT statements (9 reads : 1 update) in one transaction."""
    wall, cpu = time.perf_counter(), time.thread_time()
    with engine.begin() as conn:
        for i in range(first, first + PER_UNIT):
            key = i * 7919 % ROWS + 1
            if i % 10 == 9:
                conn.execute(WRITE, {"key": key})
            else:
                conn.execute(READ, {"id": key}).scalar_one()
    took = time.perf_counter() - wall
    totals.wall += took
    totals.cpu += time.thread_time() - cpu
    totals.units.append(took)


def _round(plain: Engine, instrumented: Engine, statements: int) -> tuple[Totals, Totals]:
    """`statements` statements on each engine, alternating unit by unit."""
    totals = (Totals(), Totals())
    engines = (plain, instrumented)
    for n, first in enumerate(range(0, statements, PER_UNIT)):
        for which in (0, 1) if n % 2 == 0 else (1, 0):
            _unit(engines[which], first, totals[which])
    return totals


def measure(url: URL, rounds: int, statements: int) -> list[tuple[Totals, Totals]]:
    """(plain, instrumented) totals of each round, after one warm-up round of a fifth."""
    plain, instrumented = sa.create_engine(url), sa.create_engine(url)
    instrument(instrumented, slow_query_ms=1000, n_plus_one_threshold=PER_UNIT + 1)
    try:
        with plain.begin() as conn:
            METADATA.create_all(conn)
            rows = [{"id": i, "name": f"item {i}", "hits": 0} for i in range(1, ROWS + 1)]
            conn.execute(sa.insert(ITEMS), rows)
        _round(plain, instrumented, statements // 5)  # warm pools, caches, the server
        return [_round(plain, instrumented, statements) for _ in range(rounds)]
    finally:
        plain.dispose()
        instrumented.dispose()


def report(results: list[tuple[Totals, Totals]], statements: int) -> str:
    n, rounds = statements, len(results)
    rows = [
        [i, f"{p.wall:.3f}", f"{t.wall:.3f}", f"{t.wall / p.wall:.3f}",
         f"{p.cpu / n * 1e6:.1f} → {t.cpu / n * 1e6:.1f}"]
        for i, (p, t) in enumerate(results, 1)
    ]  # fmt: skip
    header = ["round", "plain s", "instrumented s", "ratio", "client CPU µs/stmt"]
    plain_wall = sum(p.wall for p, _ in results)
    paired = percentile(
        [b / a for p, t in results for a, b in zip(p.units, t.units, strict=True)], 50
    )
    # interference from other processes only ever adds time: the fastest units
    # are the least disturbed ones, so their ratio is the steadiest estimate
    plain_p10 = percentile([u for p, _ in results for u in p.units], 10)
    inst_p10 = percentile([u for _, t in results for u in t.units], 10)
    extra_cpu = sum(t.cpu - p.cpu for p, t in results) / (rounds * n)
    wall_per_stmt = plain_wall / (rounds * n)
    return "\n".join([
        f"{n} statements per engine per round, {rounds} rounds, interleaved by unit",
        "",
        output.table(header, rows),
        "",
        "overhead ratio (sum instrumented / sum plain wall time):"
        f" {sum(t.wall for _, t in results) / plain_wall:.3f}",
        f"median ratio of paired units: {paired:.3f}",
        f"ratio of the 10th-percentile unit times: {inst_p10 / plain_p10:.3f}"
        f" ({plain_p10 * 1e3:.2f} ms -> {inst_p10 * 1e3:.2f} ms per {PER_UNIT} statements)",
        f"extra client CPU per statement: {extra_cpu * 1e6:.2f} us"
        f" = {extra_cpu / wall_per_stmt:.1%} of the plain wall time per statement"
        f" ({wall_per_stmt * 1e6:.1f} us)",
    ])  # fmt: skip
