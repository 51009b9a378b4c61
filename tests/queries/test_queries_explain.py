"""Each helper's SQL uses its index, in the default plan and (history, stale) in a generic plan.

The data is generated once per module with generate_series, large and skewed
enough that the planner prefers the indexes: 1000 users, 40k agents, 20k
workflows, 60k workflow and 100k agent executions; a tenth of each execution
table belongs to one heavy (user, workflow) and (user, agent), the others
have about 25 executions each. The statements are
the ones the helpers really send (captured from the engine); the generic plan
is the one psycopg's prepared statements get after five executions
(`plan_cache_mode = force_generic_plan`, PREPARE, EXPLAIN EXECUTE).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from plans import capture, history_page_scan, indexes, plan_nodes, sorts
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pyglue import queries
from pyglue.dburl import create_engine_for
from pyglue.testing import PostgresCluster

# generating and vacuuming 400k rows takes about ten seconds
pytestmark = pytest.mark.slow

GENERATE = """
CREATE FUNCTION pg_temp.k(p int, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT ('00000000-0000-' || p || '-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$;
INSERT INTO users (id, email, name)
SELECT pg_temp.k(4000, u), 'user' || u || '@example.com', 'User ' || u
FROM generate_series(1, 1000) u;
-- provider 'ollama' / model 'llama3' on one agent in 500
INSERT INTO agents (id, user_id, name, configuration)
SELECT pg_temp.k(4001, a), pg_temp.k(4000, (a - 1) / 40 + 1), 'agent ' || a,
       jsonb_build_object(
           'llm_provider', CASE WHEN a % 500 = 0 THEN 'ollama'
                                WHEN a % 3 = 0 THEN 'anthropic' ELSE 'openai' END,
           'llm_model', CASE WHEN a % 500 = 0 THEN 'llama3'
                             WHEN a % 3 = 0 THEN 'claude' ELSE 'gpt-4o' END,
           'temperature', (a % 10) / 10.0,
           'memory', jsonb_build_object('enabled', a % 2 = 0, 'window', a % 7))
FROM generate_series(1, 40000) a;
-- a 'human_review' node in one workflow in 500
INSERT INTO workflows (id, user_id, name, graph_definition)
SELECT pg_temp.k(4002, w), pg_temp.k(4000, (w - 1) / 20 + 1), 'workflow ' || w,
       jsonb_build_object('nodes', jsonb_build_array(
           jsonb_build_object('id', 'n1', 'type', 'start'),
           jsonb_build_object('id', 'n2', 'type', 'agent'),
           jsonb_build_object('id', 'n3', 'type',
                              CASE WHEN w % 500 = 0 THEN 'human_review' ELSE 'tool' END),
           jsonb_build_object('id', 'n4', 'type', 'end')),
         'edges', jsonb_build_array())
FROM generate_series(1, 20000) w;
-- one execution in ten is the heavy user's workflow 1 / agent 1, the others spread
-- over the first 2000 workflows / 4000 agents (about 25 each); statuses are spread
-- evenly: 1 in 10 failed, 1 in 200 running, 1 in 199 pending
INSERT INTO workflow_executions (id, workflow_id, user_id, session_id, status, started_at)
SELECT pg_temp.k(4003, e), pg_temp.k(4002, x.w), pg_temp.k(4000, (x.w - 1) / 20 + 1),
       'ws-' || (e / 4),
       CASE WHEN (e / 10) % 200 = 7 THEN 'running' WHEN (e / 10) % 199 = 5 THEN 'pending'
            WHEN (e / 10) % 10 = 3 THEN 'failed' ELSE 'completed' END,
       timezone('utc', now()) - make_interval(mins => e)
FROM generate_series(1, 60000) e,
     LATERAL (SELECT CASE WHEN e % 10 = 0 THEN 1 ELSE e % 2000 + 1 END AS w) x;
INSERT INTO agent_executions (id, agent_id, user_id, session_id, status, started_at)
SELECT pg_temp.k(4004, e), pg_temp.k(4001, x.a), pg_temp.k(4000, (x.a - 1) / 40 + 1),
       'as-' || (e / 5),
       CASE WHEN (e / 10) % 200 = 7 THEN 'running' WHEN (e / 10) % 199 = 5 THEN 'pending'
            WHEN (e / 10) % 10 = 3 THEN 'failed' ELSE 'completed' END,
       timezone('utc', now()) - make_interval(secs => e * 30)
FROM generate_series(1, 100000) e,
     LATERAL (SELECT CASE WHEN e % 10 = 0 THEN 1 ELSE e % 4000 + 1 END AS a) x;
INSERT INTO execution_metrics (execution_id, started_at, llm_call_count, total_tokens, cost)
SELECT id, started_at, 1, 100, 0.01 FROM agent_executions;
-- 5 blocks (3 with an agent) and 4 edges for each of the first 4000 workflows
INSERT INTO agent_blocks (id, workflow_id, agent_id, type, name, position)
SELECT pg_temp.k(4005, b), pg_temp.k(4002, (b - 1) / 5 + 1),
       CASE WHEN b % 5 IN (1, 0) THEN NULL
            ELSE pg_temp.k(4001, ((b - 1) / 100) * 40 + b % 5 + 1) END,
       CASE WHEN b % 5 = 1 THEN 'start' WHEN b % 5 = 0 THEN 'end' ELSE 'agent' END,
       'block ' || b, b % 5
FROM generate_series(1, 20000) b;
INSERT INTO workflow_edges (workflow_id, source_block_id, target_block_id)
SELECT pg_temp.k(4002, (b - 1) / 5 + 1), pg_temp.k(4005, b), pg_temp.k(4005, b + 1)
FROM generate_series(1, 20000) b WHERE b % 5 <> 0;
INSERT INTO agent_tools (agent_id, name, tool_type)
SELECT pg_temp.k(4001, a), 'tool ' || t, 'http'
FROM generate_series(1, 40000) a, generate_series(1, 2) t;
INSERT INTO knowledgebases (id, user_id, name)
SELECT pg_temp.k(4006, kb), pg_temp.k(4000, (kb - 1) / 2 + 1), 'kb ' || kb
FROM generate_series(1, 2000) kb;
INSERT INTO agent_knowledgebases (agent_id, knowledgebase_id)
SELECT pg_temp.k(4001, a), pg_temp.k(4006, ((a - 1) / 40) * 2 + 1 + a % 2)
FROM generate_series(1, 40000) a;
"""


def k(prefix: int, n: int) -> uuid.UUID:
    """The ids GENERATE gives: k(4000, 1) is user 1, 4001 agents, 4002 workflows."""
    return uuid.UUID(f"00000000-0000-{prefix}-8000-{n:012x}")


HEAVY_USER, HEAVY_WORKFLOW, HEAVY_AGENT = k(4000, 1), k(4002, 1), k(4001, 1)
# user 7 owns workflows 121..140 and agents 241..280
LIGHT_USER, LIGHT_WORKFLOW, LIGHT_AGENT = k(4000, 7), k(4002, 130), k(4001, 250)


@pytest.fixture(scope="module")
def explain_engine(pg_cluster: PostgresCluster, head_template: str) -> Iterator[Engine]:
    name = f"t_explain_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(name, template=head_template)
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute(GENERATE)
            raw.commit()
            raw.autocommit = True
            # VACUUM also merges the GIN pending lists, which the planner costs
            raw.execute("VACUUM ANALYZE")
            raw.autocommit = False
        yield engine
    finally:
        engine.dispose()
        pg_cluster.drop_database(name)


def test_workflow_and_agent_helpers_use_primary_and_foreign_key_indexes(
    explain_engine: Engine,
) -> None:
    workflow = capture(explain_engine, lambda s: queries.get_workflow_with_relations(s, k(4002, 3)))
    agent = capture(explain_engine, lambda s: queries.get_agent_with_relations(s, k(4001, 3)))
    # selectinload's statements come in no fixed order: compare per helper
    for captured, expected in (
        (
            workflow,
            {"pk_workflows", "ix_agent_blocks_workflow_id", "ix_workflow_edges_workflow_id"},
        ),
        (agent, {"pk_agents", "pk_agent_knowledgebases", "ix_agent_tools_agent_id"}),
    ):
        used = [indexes(plan_nodes(explain_engine, *c, generic=False)) for c in captured]
        assert len(used) == (3 if captured is workflow else 1)  # the agent: one statement
        assert set().union(*used) & expected == expected
        assert all(u & expected for u in used)


def _first_page_then_next(
    fetch: Callable[[Session, queries.HistoryCursor | None], list[Any]],
) -> Callable[[Session], object]:
    def call(session: Session) -> None:
        page = fetch(session, None)
        assert len(page) == 20
        fetch(session, queries.cursor_of(page[-1]))

    return call


WORKFLOW_INDEX = STATUS_INDEX = "ix_workflow_exec_user_workflow_status"
AGENT_INDEX = "ix_agent_exec_user_agent_started"
WHO = {
    "heavy": (HEAVY_USER, HEAVY_WORKFLOW, HEAVY_AGENT),
    "light": (LIGHT_USER, LIGHT_WORKFLOW, LIGHT_AGENT),
}


def _workflow_pages(who: str, status: str | None) -> Callable[[Session], object]:
    user, workflow, _ = WHO[who]
    return _first_page_then_next(
        lambda s, before: queries.get_workflow_execution_history(
            s, user, workflow, status=status, limit=20, before=before
        )
    )


def _agent_pages(who: str) -> Callable[[Session], object]:
    user, _, agent = WHO[who]
    return _first_page_then_next(
        lambda s, before: queries.get_agent_execution_history(
            s, user, agent, limit=20, before=before
        )
    )


HISTORY_CASES: dict[str, tuple[Callable[[Session], object], str]] = {
    "heavy workflow": (_workflow_pages("heavy", None), WORKFLOW_INDEX),
    "heavy workflow completed": (_workflow_pages("heavy", "completed"), STATUS_INDEX),
    "heavy workflow failed": (_workflow_pages("heavy", "failed"), STATUS_INDEX),
    "light workflow": (_workflow_pages("light", None), WORKFLOW_INDEX),
    "light workflow completed": (_workflow_pages("light", "completed"), STATUS_INDEX),
    "heavy agent": (_agent_pages("heavy"), AGENT_INDEX),
    "light agent": (_agent_pages("light"), AGENT_INDEX),
}


@pytest.mark.parametrize("generic", [False, True], ids=["default", "generic"])
@pytest.mark.parametrize("case", list(HISTORY_CASES))
def test_history_pages_are_an_ordered_scan_of_their_index(
    explain_engine: Engine, case: str, generic: bool
) -> None:
    call, index = HISTORY_CASES[case]
    first, following = capture(explain_engine, call)
    for statement, parameters in (first, following):
        nodes = plan_nodes(explain_engine, statement, parameters, generic=generic)
        scan = history_page_scan(nodes, index)
    # the keyset cursor (and the status) are index conditions, not a filter
    assert "ROW(" in scan["Index Cond"]


@pytest.mark.parametrize("generic", [False, True], ids=["default", "generic"])
def test_rare_status_page_checks_the_status_inside_the_index(
    explain_engine: Engine, generic: bool
) -> None:
    """30 'pending' runs among the heavy workflow's 6000: other statuses cost no heap visit.

    Expecting fewer matches than a page, the planner reads the same index
    entries either way and may fetch the few matches with a bitmap scan and
    sort them (the costs tie): a sort of at most one page, never of the history.
    """
    [first] = capture(
        explain_engine,
        lambda s: queries.get_workflow_execution_history(
            s, HEAVY_USER, HEAVY_WORKFLOW, status="pending", limit=50
        ),
    )
    nodes = plan_nodes(explain_engine, *first, generic=generic)
    if sorts(nodes):
        for sort in (n for n in nodes if n["Node Type"] == "Sort"):
            assert sort["Plans"][0]["Plan Rows"] <= 50, nodes
        index = "ix_workflow_exec_user_workflow_status"
        scans = [n for n in nodes if n.get("Index Name") == index]
        assert scans, nodes
        assert [n for n in scans if "Filter" in n] == []
        scan = scans[0]
    else:
        scan = history_page_scan(nodes, "ix_workflow_exec_user_workflow_status")
    assert "status" in scan["Index Cond"]


STALE = timedelta(hours=1)


@pytest.mark.parametrize("generic", [False, True], ids=["default", "generic"])
def test_stale_running_uses_the_partial_indexes(explain_engine: Engine, generic: bool) -> None:
    captured = capture(
        explain_engine, lambda s: queries.get_stale_running_executions(s, older_than=STALE)
    )
    used = [indexes(plan_nodes(explain_engine, *c, generic=generic)) for c in captured]
    assert used == [{"ix_workflow_exec_status_started"}, {"ix_agent_exec_status_started"}]
    for statement, parameters in captured:
        assert sorts(plan_nodes(explain_engine, statement, parameters, generic=generic)) == []
        assert "'running'" in statement
        assert parameters["older_than"] == STALE


OTHER_CASES: dict[str, tuple[Callable[[Session], object], str]] = {
    "dashboard heavy": (
        lambda s: queries.get_dashboard_executions_optimized(s, HEAVY_USER),
        "ix_agent_exec_user_started",
    ),
    "dashboard light": (
        lambda s: queries.get_dashboard_executions_optimized(s, LIGHT_USER),
        "ix_agent_exec_user_started",
    ),
    "session": (
        lambda s: queries.get_session_executions(s, "as-123"),
        "ix_agent_exec_session_status",
    ),
    "session status": (
        lambda s: queries.get_session_executions(s, "as-123", status="completed"),
        "ix_agent_exec_session_status",
    ),
    "llm_provider": (
        lambda s: queries.find_agents(s, llm_provider="ollama"),
        "ix_agents_llm_provider",
    ),
    "llm_model": (lambda s: queries.find_agents(s, llm_model="llama3"), "ix_agents_llm_model"),
    "config_contains": (
        lambda s: queries.find_agents(s, config_contains={"llm_provider": "ollama"}),
        "ix_agents_config_gin",
    ),
    "config_contains nested": (
        lambda s: queries.find_agents(
            s, config_contains={"memory": {"window": 3}, "temperature": 0.5}
        ),
        "ix_agents_config_gin",
    ),
    "node_type": (
        lambda s: queries.find_workflows_with_node_type(s, "human_review"),
        "ix_workflows_graph_gin",
    ),
}


@pytest.mark.parametrize("case", list(OTHER_CASES))
def test_helper_uses_its_index(explain_engine: Engine, case: str) -> None:
    call, index = OTHER_CASES[case]
    [(statement, parameters)] = capture(explain_engine, call)
    assert index in indexes(plan_nodes(explain_engine, statement, parameters, generic=False))


@pytest.mark.parametrize("user", [HEAVY_USER, LIGHT_USER], ids=["heavy", "light"])
def test_dashboard_generic_plan_uses_its_index_without_sort(
    explain_engine: Engine, user: uuid.UUID
) -> None:
    [captured] = capture(
        explain_engine, lambda s: queries.get_dashboard_executions_optimized(s, user)
    )
    for generic in (False, True):
        nodes = plan_nodes(explain_engine, *captured, generic=generic)
        assert "ix_agent_exec_user_started" in indexes(nodes)
        assert sorts(nodes) == []


def test_search_forms_match_the_index_expressions(explain_engine: Engine) -> None:
    [(provider, _)] = capture(explain_engine, lambda s: queries.find_agents(s, llm_provider="x"))
    [(contains, _)] = capture(
        explain_engine, lambda s: queries.find_agents(s, config_contains={"a": 1})
    )
    [(node, params)] = capture(
        explain_engine, lambda s: queries.find_workflows_with_node_type(s, "agent")
    )
    assert "(agents.configuration ->> 'llm_provider') = %(llm_provider)s" in provider
    assert "agents.configuration @> %(config_contains)s" in contains
    assert "workflows.graph_definition @> %(node_pattern)s" in node
    assert "->" not in node
    assert params["node_pattern"].obj == {"nodes": [{"type": "agent"}]}  # psycopg Jsonb
