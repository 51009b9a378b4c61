"""Overhead of pyglue.monitoring.instrument on a 10,000-statement workload.

`python -m pyglue.bench.instrument_overhead [--rounds 10] [--statements 10000]`
starts a throwaway cluster, then runs the same workload on two engines of the
same database, one plain and one instrumented (N+1 detector on, no warning
firing). Each round runs the workload once on each engine, interleaved in
units of 100 statements (one connection checkout each) in alternating order,
so drift (table state, other load on the machine) hits both alike. It prints
every round and the ratio instrumented / plain of the summed times (goal <= 1.05),
with two steadier estimates for a busy machine: the median ratio of paired
units and the ratio of the 10th-percentile unit times.
The workload is the worst case for relative overhead: short primary-key reads
over a local socket, 100 statements per connection checkout.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    create_engine,
    insert,
    select,
    update,
)

from pyglue.monitoring import instrument
from pyglue.testing import PostgresCluster

METADATA = MetaData()
ITEMS = Table(
    "overhead_items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("hits", Integer, nullable=False),
)
ROWS = 1000
PER_UNIT = 100


READ = select(ITEMS.c.name).where(ITEMS.c.id == bindparam("id"))
WRITE = update(ITEMS).where(ITEMS.c.id == bindparam("key")).values(hits=ITEMS.c.hits + 1)


@dataclass
class Totals:
    """Wall and client-CPU seconds of one engine, and every unit's wall time."""

    wall: float = 0.0
    cpu: float = 0.0
    units: list[float] = field(default_factory=list)


def unit(engine: Engine, first: int, totals: Totals) -> None:
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


def one_round(plain: Engine, instrumented: Engine, statements: int) -> tuple[Totals, Totals]:
    """`statements` statements on each engine, alternating unit by unit."""
    totals = (Totals(), Totals())
    engines = (plain, instrumented)
    for n, first in enumerate(range(0, statements, PER_UNIT)):
        for which in (0, 1) if n % 2 == 0 else (1, 0):
            unit(engines[which], first, totals[which])
    return totals


def measure(url: str, rounds: int, statements: int) -> list[tuple[Totals, Totals]]:
    plain = create_engine(url)
    instrumented = create_engine(url)
    instrument(instrumented, slow_query_ms=1000, n_plus_one_threshold=PER_UNIT + 1)
    try:
        with plain.begin() as conn:
            METADATA.create_all(conn)
            conn.execute(
                insert(ITEMS),
                [{"id": i, "name": f"item {i}", "hits": 0} for i in range(1, ROWS + 1)],
            )
        one_round(plain, instrumented, statements // 5)  # warm pools, caches, the server
        return [one_round(plain, instrumented, statements) for _ in range(rounds)]
    finally:
        plain.dispose()
        instrumented.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--statements", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.statements < PER_UNIT or args.statements % PER_UNIT:
        parser.error(f"--rounds must be >= 1, --statements a multiple of {PER_UNIT}")
    cluster = PostgresCluster().start()
    try:
        url = cluster.create_database("overhead")
        results = measure(url, args.rounds, args.statements)
    finally:
        cluster.stop()
    n = args.statements
    print(f"{n} statements per engine per round, {args.rounds} rounds, interleaved by unit")
    print("round   plain s  instrumented s   ratio   client CPU us/stmt plain -> instrumented")
    for i, (p, t) in enumerate(results, 1):
        print(
            f"{i:>5} {p.wall:>9.3f} {t.wall:>15.3f} {t.wall / p.wall:>7.3f}"
            f"   {p.cpu / n * 1e6:>8.1f} -> {t.cpu / n * 1e6:.1f}"
        )
    plain_wall = sum(p.wall for p, _ in results)
    inst_wall = sum(t.wall for _, t in results)
    paired = statistics.median(
        b / a for p, t in results for a, b in zip(p.units, t.units, strict=True)
    )
    # interference from other processes only ever adds time: the fastest units
    # are the least disturbed ones, so their ratio is the steadiest estimate
    plain_p10 = statistics.quantiles([u for p, _ in results for u in p.units], n=10)[0]
    inst_p10 = statistics.quantiles([u for _, t in results for u in t.units], n=10)[0]
    extra_cpu = sum(t.cpu - p.cpu for p, t in results) / (len(results) * n)
    wall_per_stmt = plain_wall / (len(results) * n)
    print(f"overhead ratio (sum instrumented / sum plain wall time): {inst_wall / plain_wall:.3f}")
    print(f"median ratio of paired units: {paired:.3f}")
    print(
        f"ratio of the 10th-percentile unit times: {inst_p10 / plain_p10:.3f} "
        f"({plain_p10 * 1e3:.2f} ms -> {inst_p10 * 1e3:.2f} ms per {PER_UNIT} statements)"
    )
    print(
        f"extra client CPU per statement: {extra_cpu * 1e6:.2f} us "
        f"= {extra_cpu / wall_per_stmt:.1%} of the plain wall time per statement "
        f"({wall_per_stmt * 1e6:.1f} us)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
