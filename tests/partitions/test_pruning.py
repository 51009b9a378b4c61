"""Issue 13, part 5: the queries at head read only the months they need, custom and generic.

A database with runs in each of the last six months (their partitions made
as a year of running would have) and the months ahead empty. PostgreSQL
prunes a custom plan's months when it plans it ("partitions scanned"), a
generic plan's when it starts ("Subplans Removed"), a nested loop's inner
side at each row (the fetch by (id, started_at)).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from factories import add_agent, add_user, add_workflow
from plans import capture, indexes, plan_nodes, planned_tables, subplans_removed
from sqlalchemy import Engine

from pyglue import queries
from pyglue.bench.history_scale import create_past_months
from pyglue.dburl import connect, create_engine_for
from pyglue.testing import PostgresCluster

USER = uuid.UUID(int=1)
AGENT = uuid.UUID(int=11)
WORKFLOW = uuid.UUID(int=31)
MONTHS_BACK = 6
RUNS_PER_DAY = 4
HISTORY = ("workflow_executions", "agent_executions", "execution_metrics")
GENERIC = [False, True]
GENERIC_IDS = ["custom", "generic"]


def _fill(url: str) -> None:
    with connect(url, autocommit=True) as conn:
        conn.execute("SET timezone = 'UTC'")
        add_user(conn, USER)
        add_agent(conn, USER, AGENT, name="a")
        add_workflow(conn, USER, WORKFLOW, name="w")
        for table in HISTORY:
            create_past_months(conn, table, MONTHS_BACK)
        # nine more workflows of another user: the history's index is selective
        other = uuid.UUID(int=2)
        add_user(conn, other, name="other")
        for n in range(9):
            add_workflow(conn, other, uuid.UUID(int=100 + n), name=f"w{n}")
        conn.execute(
            "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at)"
            " SELECT w.id, w.user_id, 'completed', timezone('UTC', now()) - i * interval '6 hours'"
            " FROM workflows w, generate_series(1, %s) i WHERE w.user_id = %s",
            (MONTHS_BACK * 30 * RUNS_PER_DAY, other),
        )
        runs = MONTHS_BACK * 30 * RUNS_PER_DAY
        conn.execute(
            "INSERT INTO workflow_executions (workflow_id, user_id, status, started_at)"
            " SELECT %s, %s, 'completed', timezone('UTC', now()) - i * interval '6 hours'"
            " FROM generate_series(1, %s) i",
            (WORKFLOW, USER, runs),
        )
        conn.execute(
            "WITH e AS (INSERT INTO agent_executions (agent_id, user_id, status, started_at,"
            " session_id) SELECT %s, %s, CASE WHEN i %% 50 = 0 THEN 'running'"
            " ELSE 'completed' END, timezone('UTC', now()) - i * interval '6 hours', 's'"
            " FROM generate_series(1, %s) i RETURNING id, started_at)"
            " INSERT INTO execution_metrics (execution_id, started_at, total_tokens)"
            " SELECT id, started_at, 10 FROM e",
            (AGENT, USER, runs),
        )
        # and nine times as many runs with metrics of the other user: the
        # metrics of one user are a few of the table's (the join on (user_id,
        # execution_id, started_at) could otherwise merge them all, sorted)
        other_agent = uuid.UUID(int=200)
        add_agent(conn, other, other_agent, name="theirs")
        conn.execute(
            "WITH e AS (INSERT INTO agent_executions (agent_id, user_id, status, started_at)"
            " SELECT %s, %s, 'completed', timezone('UTC', now()) - i * interval '40 minutes'"
            " FROM generate_series(1, %s) i RETURNING id, started_at)"
            " INSERT INTO execution_metrics (execution_id, started_at, total_tokens)"
            " SELECT id, started_at, 10 FROM e",
            (other_agent, other, 9 * runs),
        )
        conn.execute("ANALYZE")


@pytest.fixture(scope="module")
def months_engine(pg_cluster: PostgresCluster, head_template: str) -> Iterator[Engine]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name, template=head_template)
    _fill(url)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()
    pg_cluster.drop_database(name)


def _month(engine: Engine, back: int) -> str:
    with engine.connect() as conn:
        [[name]] = conn.exec_driver_sql(
            "SELECT to_char(date_trunc('month', timezone('UTC', now()))"
            f" - interval '{back} months', 'YYYY_MM')"
        ).all()
    return str(name)


def _months_ahead(engine: Engine) -> set[str]:
    return {f"{table}_p{_month(engine, -n)}" for table in HISTORY for n in (1, 2, 3)}


def _cursor_two_months_back(engine: Engine) -> queries.HistoryCursor:
    with engine.connect() as conn:
        [[started_at, id_]] = conn.exec_driver_sql(
            "SELECT started_at, id FROM workflow_executions"
            " WHERE started_at < date_trunc('month', timezone('UTC', now())) - interval '1 month'"
            " ORDER BY started_at DESC, id DESC LIMIT 1"
        ).all()
    return queries.HistoryCursor(started_at, id_)


@pytest.mark.parametrize("generic", GENERIC, ids=GENERIC_IDS)
def test_a_history_page_before_a_cursor_reads_no_later_month(
    months_engine: Engine, generic: bool
) -> None:
    before = _cursor_two_months_back(months_engine)
    [page] = capture(
        months_engine,
        lambda s: queries.get_workflow_execution_history(s, USER, WORKFLOW, before=before),
    )
    nodes = plan_nodes(months_engine, *page, generic=generic)
    later = {f"workflow_executions_p{_month(months_engine, back)}" for back in (0, 1)}
    if generic:
        # pruned when the plan starts: the current month, the one before and
        # the months ahead (empty, left out of the nodes) for the page's keys
        assert subplans_removed(nodes) >= 2 + 3
    index = "ix_workflow_exec_user_workflow_status"
    keys = [n for n in nodes if n.get("Index Name") == index]
    assert keys, nodes
    # the page's keys: no later month; the rows are then fetched by (id,
    # started_at), pruned to one month per row when the nested loop runs
    assert {n.get("Partition Relation Name") for n in keys} & later == set(), keys


def test_a_first_history_page_plans_no_month_ahead(months_engine: Engine) -> None:
    [page] = capture(
        months_engine, lambda s: queries.get_workflow_execution_history(s, USER, WORKFLOW)
    )
    tables = planned_tables(months_engine, *page)
    assert f"workflow_executions_p{_month(months_engine, 0)}" in tables
    assert tables & _months_ahead(months_engine) == set()


@pytest.mark.parametrize("generic", GENERIC, ids=GENERIC_IDS)
def test_the_stale_running_check_reads_the_months_before_its_cutoff(
    months_engine: Engine, generic: bool
) -> None:
    statements = capture(
        months_engine,
        lambda s: queries.get_stale_running_executions(s, older_than=timedelta(days=40)),
    )
    ahead = _months_ahead(months_engine)
    for statement in statements:
        nodes = plan_nodes(months_engine, *statement, generic=generic)
        if generic:  # the horizon is a parameter: the months ahead pruned when the plan starts
            assert subplans_removed(nodes) >= 3
        else:  # the horizon is a value: the months ahead are not even planned
            assert planned_tables(months_engine, *statement) & ahead == set()
        assert indexes(nodes) <= {
            "ix_workflow_exec_status_started",
            "ix_agent_exec_status_started",
        }, nodes


@pytest.mark.parametrize("generic", GENERIC, ids=GENERIC_IDS)
def test_the_dashboard_reads_each_month_by_its_index_and_fetches_metrics_by_key(
    months_engine: Engine, generic: bool
) -> None:
    [statement] = capture(
        months_engine, lambda s: queries.get_dashboard_executions_optimized(s, USER)
    )
    nodes = plan_nodes(months_engine, *statement, generic=generic)
    if not generic:  # the horizon: no month ahead planned, for the runs or their metrics
        assert planned_tables(months_engine, *statement) & _months_ahead(months_engine) == set()
    # the latest runs of a user have no time bound: each month's index, in order
    assert "ix_agent_exec_user_started" in indexes(nodes)
    seq_scans = [n for n in nodes if n["Node Type"] == "Seq Scan"]
    assert [n for n in seq_scans if n.get("Relation Name") in HISTORY] == []
    metrics = [n for n in nodes if n.get("Relation Name") == "execution_metrics"]
    assert metrics, nodes
    assert {n.get("Index Name") for n in metrics} <= {
        "uq_execution_metrics_execution_id_started_at",
        "pk_execution_metrics",
    }, metrics


@pytest.mark.direct(reason="LOAD 'auto_explain' and SETs are session state a pooler would leak")
def test_verify_reads_only_the_months_of_its_days(months_engine: Engine) -> None:
    month = _month(months_engine, 1)
    first = datetime.strptime(month, "%Y_%m").date()
    messages: list[str] = []
    with connect(months_engine.url.render_as_string(hide_password=False), autocommit=True) as c:
        c.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
        for setting in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_nested_statements = on",
            "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_format = 'json'",
            "SET client_min_messages = log",
        ):
            c.execute(setting)
        rows = c.execute(
            "SELECT * FROM agentdb.verify_execution_stats(%s, %s)",
            (first, first + timedelta(days=27)),
        ).fetchall()
    assert rows == []
    read: set[str] = set()
    for message in messages:
        if not message.startswith("duration:"):
            continue
        nodes = [json.loads(message.split("\n", 1)[1])["Plan"]]
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", []))
            name = node.get("Relation Name", "")
            if node.get("Actual Loops", 0) > 0 and name.startswith(HISTORY):
                read.add(name)
    assert read == {f"{table}_p{month}" for table in HISTORY}
