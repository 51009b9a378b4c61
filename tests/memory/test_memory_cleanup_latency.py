"""Insert latency during a cleanup of 100k expired memories (measured and printed, never asserted).

`pyglue bench memory-cleanup --naive` prints the same table for
150k rows, with the performance plan's single-transaction DELETEs beside.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from pyglue.bench.memory_cleanup import run, table
from pyglue.dburl import libpq_dsn


@pytest.mark.slow
@pytest.mark.direct(reason="times the cleanup on the server itself; pyglue.bench connects directly")
def test_inserts_during_a_100k_cleanup(head_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    results = run(head_url, expired=100_000, live=10_000, batch_size=5000, naive=False)
    with capsys.disabled():
        print("\n" + table(results))
    (batched,) = results
    assert batched.state == "batched"
    assert batched.rows_deleted == 100_000
    inserts = batched.latency["insert"]
    assert inserts is not None
    with psycopg.connect(libpq_dsn(make_url(head_url))) as conn:
        inserted, live = conn.execute(
            "SELECT count(*) FILTER (WHERE session_id LIKE 'bench-%'),"
            "       count(*) FILTER (WHERE session_id IS NULL) FROM agent_memories"
        ).fetchone() or (0, 0)
        runs = conn.execute(
            "SELECT status, (counts ->> 'batches')::int FROM agentdb.maintenance_runs"
        ).fetchall()
    # the live rows and every row inserted during the cleanup are still there
    assert live == 10_000
    assert inserted >= inserts.runs
    # rounds of one batch per policy: short_term's 60,000 rows take 12 full batches and a short one
    assert runs == [("succeeded", 13)]
