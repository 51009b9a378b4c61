"""Manual timing of the query helpers (not a test): median and p95 over N runs.

    .venv/bin/python tests/time_queries.py [DATABASE_URL] [RUNS]

Starts a throwaway cluster when no URL is given. Creates one workflow of 20
blocks (and 19 edges) and one agent with 5 tools and 3 knowledgebases, then
times each helper, the document functions and, for comparison, the naive
N+1 access pattern (workflow, then blocks, then each block's agent).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from queries_data import StatementLog, add_agent, add_user, add_workflow
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from pyglue import install, queries
from pyglue.models import Agent, AgentBlock, Workflow, WorkflowEdge
from pyglue.testing import throwaway_cluster


def naive_workflow(session: Session, workflow_id: object) -> int:
    """The access pattern the helpers replace: one statement per block's agent."""
    workflow = session.scalars(select(Workflow).where(Workflow.id == workflow_id)).one()
    blocks = session.scalars(select(AgentBlock).where(AgentBlock.workflow_id == workflow.id)).all()
    session.scalars(select(WorkflowEdge).where(WorkflowEdge.workflow_id == workflow.id)).all()
    for block in blocks:
        if block.agent_id is not None:
            session.scalars(select(Agent).where(Agent.id == block.agent_id)).one()
    return len(blocks)


def timed(engine: Engine, name: str, call: Callable[[Session], object], runs: int) -> None:
    log = StatementLog(engine)
    samples: list[float] = []
    with Session(engine) as session:
        for _ in range(20):  # warm the pool, the compiled cache and the server's plans
            call(session)
            session.expunge_all()
        with log.recording() as statements:
            call(session)
        session.expunge_all()
        for _ in range(runs):
            start = time.perf_counter()
            call(session)
            samples.append((time.perf_counter() - start) * 1000)
            session.expunge_all()
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(
        f"{name:42s} statements={len(statements):2d}  "
        f"median={statistics.median(samples):6.3f} ms  p95={p95:6.3f} ms"
    )


def main(url: str, runs: int) -> None:
    engine = create_engine(url)
    install.upgrade(engine, "head")
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=20)
        agent_id = add_agent(conn, owner, tools=5, knowledgebases=3)
    print(f"{runs} runs each, one Session, expunged between runs")
    timed(
        engine,
        "get_workflow_with_relations (20 blocks)",
        lambda s: queries.get_workflow_with_relations(s, workflow_id),
        runs,
    )
    timed(
        engine,
        "get_workflow_document (20 blocks)",
        lambda s: queries.get_workflow_document(s, workflow_id),
        runs,
    )
    timed(engine, "naive N+1 workflow (20 blocks)", lambda s: naive_workflow(s, workflow_id), runs)
    timed(
        engine,
        "get_agent_with_relations",
        lambda s: queries.get_agent_with_relations(s, agent_id),
        runs,
    )
    timed(engine, "get_agent_document", lambda s: queries.get_agent_document(s, agent_id), runs)
    timed(
        engine,
        "workflow_with_relations_stmt (build only)",
        lambda s: queries.workflow_with_relations_stmt(workflow_id),
        runs,
    )
    engine.dispose()


if __name__ == "__main__":
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    if len(sys.argv) > 1 and sys.argv[1] != "-":
        main(sys.argv[1], runs)
    else:
        with throwaway_cluster() as cluster:
            main(cluster.create_database("timing"), runs)
