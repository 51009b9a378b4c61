"""What the query helpers return: order, keyset pages, filters, bad input, unloaded relations."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from factories import (
    add_agent,
    add_agent_executions,
    add_user,
    add_workflow,
    add_workflow_executions,
)
from sqlalchemy import Engine, ForeignKey, inspect, text
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from pyglue import models, queries, raiseload
from pyglue.dburl import create_engine_for
from pyglue.models import AgentExecution, WorkflowExecution
from pyglue.monitoring import count_queries


@pytest.fixture
def engine(head_url: str) -> Iterator[Engine]:
    eng = create_engine_for(head_url)
    try:
        yield eng
    finally:
        eng.dispose()


# -- relationships ---------------------------------------------------------------------------


def test_workflow_helper_loads_blocks_in_position_order(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=7)
        expected = conn.execute(
            text(
                "SELECT id, agent_id FROM agent_blocks WHERE workflow_id = :w ORDER BY position, id"
            ),
            {"w": workflow_id},
        ).all()
        edges = conn.execute(
            text("SELECT id FROM workflow_edges WHERE workflow_id = :w ORDER BY id"),
            {"w": workflow_id},
        ).scalars()
        expected_edges = list(edges)
    with Session(engine) as session:
        workflow = queries.get_workflow_with_relations(session, str(workflow_id))
        assert workflow is not None
        assert [(b.id, b.agent_id) for b in workflow.blocks] == [tuple(r) for r in expected]
        assert [b.agent.id if b.agent else None for b in workflow.blocks] == [
            r.agent_id for r in expected
        ]
        assert [e.id for e in workflow.edges] == expected_edges
        assert queries.get_workflow_with_relations(session, uuid.uuid4()) is None
        assert queries.get_agent_with_relations(session, uuid.uuid4()) is None


def test_agent_helper_orders_tools_and_knowledgebases_by_name(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner, tools=12, knowledgebases=3)
    with Session(engine) as session:
        agent = queries.get_agent_with_relations(session, agent_id)
        assert agent is not None
        assert [t.name for t in agent.tools] == [f"tool {i:04d}" for i in range(1, 13)]
        assert [k.name for k in agent.knowledgebases] == ["kb 0001", "kb 0002", "kb 0003"]


def test_unloaded_relationship_names_the_helper(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=3)
        add_workflow_executions(conn, owner, workflow_id, 2)
    with Session(engine) as session:
        [workflow] = queries.find_workflows_with_node_type(session, "agent")
        with pytest.raises(raiseload.RelationshipNotLoadedError) as excinfo:
            _ = workflow.blocks
        assert str(excinfo.value) == (
            "Workflow.blocks was not loaded (lazy='raise' runs no query); "
            "load it with pyglue.queries.get_workflow_with_relations"
        )
        # still SQLAlchemy's error type, so code catching that keeps working
        assert isinstance(excinfo.value, InvalidRequestError)
        loaded = queries.get_workflow_with_relations(session, workflow_id)
        assert loaded is not None
        agent = next(b.agent for b in loaded.blocks if b.agent is not None)
        with pytest.raises(InvalidRequestError) as tools:
            _ = agent.tools
        assert str(tools.value) == (
            "Agent.tools was not loaded (lazy='raise' runs no query); "
            "load it with pyglue.queries.get_agent_with_relations"
        )
        [execution, _other] = queries.get_workflow_execution_history(session, owner, workflow_id)
        with pytest.raises(raiseload.RelationshipNotLoadedError) as no_helper:
            _ = execution.workflow
        assert str(no_helper.value) == (
            "WorkflowExecution.workflow was not loaded (lazy='raise' runs no query); "
            "no pyglue.queries helper loads it: add selectinload() (collections) or "
            "joinedload() (many-to-one) to your query"
        )


def _relationship_names() -> set[str]:
    names = set()
    for mapper in models.Base.registry.mappers:
        for rel in mapper.relationships:
            names.add(f"{mapper.class_.__name__}.{rel.key}")
    return names


def test_loaded_by_lists_every_relationship_and_helpers_exist() -> None:
    assert set(raiseload.LOADED_BY) == _relationship_names()
    for helper in {h for h in raiseload.LOADED_BY.values() if h is not None}:
        assert callable(getattr(queries, helper))
    for mapper in models.Base.registry.mappers:
        for rel in mapper.relationships:
            assert rel.lazy == "raise"
            assert type(rel.strategy) is raiseload.HintingRaiseLoader


def test_each_helper_loads_what_loaded_by_says(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=4)
        agent_id = add_agent(conn, owner, tools=1, knowledgebases=1)
        add_agent_executions(conn, owner, agent_id, 1)
    with Session(engine) as session:
        workflow = queries.get_workflow_with_relations(session, workflow_id)
        block = workflow.blocks[0] if workflow else None
        agent = queries.get_agent_with_relations(session, agent_id)
        [execution] = queries.get_dashboard_executions_optimized(session, owner)
        loaded: dict[str, Any] = {
            "Workflow": workflow,
            "AgentBlock": block,
            "Agent": agent,
            "AgentExecution": execution,
        }
        with count_queries(engine) as counted:
            for name, helper in raiseload.LOADED_BY.items():
                if helper is None:
                    continue
                owner_class, attribute = name.split(".")
                getattr(loaded[owner_class], attribute)
        assert counted.statements == []


def test_models_of_other_packages_keep_sqlalchemys_message() -> None:
    class OtherBase(DeclarativeBase):
        pass

    class Parent(OtherBase):
        __tablename__ = "parent"
        id: Mapped[int] = mapped_column(primary_key=True)
        children: Mapped[list[Child]] = relationship(lazy="raise")

    class Child(OtherBase):
        __tablename__ = "child"
        id: Mapped[int] = mapped_column(primary_key=True)
        parent_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))

    parent = Parent(id=1)
    state = inspect(parent)
    # a persistent-looking instance, so the loader (not "pending") decides
    state.key = inspect(Parent).identity_key_from_primary_key([1])  # type: ignore[attr-defined]
    with pytest.raises(InvalidRequestError) as excinfo:
        _ = parent.children
    assert not isinstance(excinfo.value, raiseload.RelationshipNotLoadedError)
    assert "is not available due to lazy='raise'" in str(excinfo.value)


# -- keyset pagination ------------------------------------------------------------------------


def _walk(fetch: Callable[[queries.HistoryCursor | None], list[Any]]) -> list[list[Any]]:
    pages: list[list[Any]] = []
    before = None
    while True:
        page = fetch(before)
        pages.append(page)
        if not page:
            return pages
        before = queries.cursor_of(page[-1])


@pytest.mark.parametrize("status", [None, "completed", "failed", "cancelled"])
def test_workflow_history_pages_walk_every_row_once(engine: Engine, status: str | None) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        workflow_id = add_workflow(conn, owner, blocks=1)
        other = add_workflow(conn, owner, blocks=1)
        # pairs share started_at: the id breaks the tie
        add_workflow_executions(conn, owner, workflow_id, 137, ties=True)
        add_workflow_executions(conn, owner, other, 20)
        add_workflow_executions(conn, add_user(conn), workflow_id, 20)
        where = "" if status is None else "AND status = :status"
        expected = conn.execute(
            text(
                "SELECT id FROM workflow_executions WHERE user_id = :u AND workflow_id = :w "
                f"{where} ORDER BY started_at DESC, id DESC"
            ),
            {"u": owner, "w": workflow_id, "status": status},
        ).scalars()
        expected_ids = list(expected)
    with Session(engine) as session:
        pages = _walk(
            lambda before: queries.get_workflow_execution_history(
                session, owner, workflow_id, status=status, limit=10, before=before
            )
        )
    ids = [row.id for page in pages for row in page]
    assert ids == expected_ids
    assert len(set(ids)) == len(ids)
    assert [len(p) for p in pages] == [10] * (len(ids) // 10) + (
        [len(ids) % 10] if len(ids) % 10 else []
    ) + [0]
    assert len(ids) == {None: 137, "completed": 45, "failed": 46, "cancelled": 0}[status]


def test_agent_history_pages_walk_every_row_once(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner)
        add_agent_executions(conn, owner, agent_id, 101, ties=True)
        add_agent_executions(conn, owner, add_agent(conn, owner), 15)
        expected = conn.execute(
            text(
                "SELECT id FROM agent_executions WHERE agent_id = :a "
                "ORDER BY started_at DESC, id DESC"
            ),
            {"a": agent_id},
        ).scalars()
        expected_ids = list(expected)
    with Session(engine) as session:
        pages = _walk(
            lambda before: queries.get_agent_execution_history(
                session, owner, agent_id, limit=25, before=before
            )
        )
    ids = [row.id for page in pages for row in page]
    assert ids == expected_ids
    assert len(ids) == 101
    assert [len(p) for p in pages] == [25, 25, 25, 25, 1, 0]


def test_history_cursor() -> None:
    row_id = uuid.uuid4()
    aware = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=9)))
    cursor = queries.HistoryCursor(aware, str(row_id))  # type: ignore[arg-type]
    assert cursor == queries.HistoryCursor(datetime(2026, 1, 1, 18, 4, 5), row_id)
    with pytest.raises(AttributeError):
        cursor.id = uuid.uuid4()  # type: ignore[misc]
    execution = AgentExecution(id=row_id, started_at=datetime(2026, 1, 1, tzinfo=None))
    assert queries.cursor_of(execution) == queries.HistoryCursor(datetime(2026, 1, 1), row_id)
    with pytest.raises(ValueError, match=r"^id must be a UUID"):
        queries.HistoryCursor(datetime(2026, 1, 1), "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^started_at must be a datetime"):
        queries.HistoryCursor("2026-01-01", row_id)  # type: ignore[arg-type]


# -- dashboard, session, stale ----------------------------------------------------------------


def test_dashboard_is_the_users_latest_executions(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner)
        add_agent_executions(conn, owner, agent_id, 8)
        stranger = add_user(conn)
        add_agent_executions(conn, stranger, add_agent(conn, stranger), 5)
        expected = conn.execute(
            text(
                "SELECT id FROM agent_executions WHERE user_id = :u "
                "ORDER BY started_at DESC, id DESC LIMIT 5"
            ),
            {"u": owner},
        ).scalars()
        expected_ids = list(expected)
    with Session(engine) as session:
        rows = queries.get_dashboard_executions_optimized(session, owner, limit=5)
        assert [r.id for r in rows] == expected_ids
        assert all(r.agent.id == agent_id for r in rows)
        assert queries.get_dashboard_executions_optimized(session, uuid.uuid4()) == []


def test_the_helpers_list_no_run_dated_past_the_horizon(engine: Engine) -> None:
    horizon = queries.history_horizon()
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner)
        soon, late = horizon - timedelta(minutes=1), horizon + timedelta(minutes=1)
        listed, hidden = (
            conn.execute(
                text(
                    "INSERT INTO agent_executions (agent_id, user_id, status, started_at,"
                    " session_id) VALUES (:a, :u, 'running', :at, 'ahead') RETURNING id"
                ),
                {"a": agent_id, "u": owner, "at": at},
            ).scalar_one()
            for at in (soon, late)
        )
    with Session(engine) as session:
        assert [r.id for r in queries.get_session_executions(session, "ahead")] == [listed]
        page = queries.get_agent_execution_history(session, owner, agent_id)
        assert [r.id for r in page] == [listed]
        latest = queries.get_dashboard_executions_optimized(session, owner)
        assert [r.id for r in latest] == [listed]
        # the row is there: only the helpers' bound leaves it out
        assert session.get(AgentExecution, hidden) is not None


def test_session_executions(engine: Engine) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner)
        add_agent_executions(conn, owner, agent_id, 6, session_id="chat-1")
        add_agent_executions(conn, owner, agent_id, 4, session_id="chat-2")
    with Session(engine) as session:
        rows = queries.get_session_executions(session, "chat-1")
        assert len(rows) == 6
        assert [r.started_at for r in rows] == sorted(r.started_at for r in rows)
        assert {r.session_id for r in rows} == {"chat-1"}
        failed = queries.get_session_executions(session, "chat-1", status="failed")
        assert [r.status for r in failed] == ["failed", "failed"]
        assert queries.get_session_executions(session, "nope") == []


@pytest.mark.parametrize("time_zone", ["UTC", "Pacific/Kiritimati", "America/Adak"])
def test_stale_running_executions_whatever_the_session_time_zone(
    engine: Engine, time_zone: str
) -> None:
    with engine.begin() as conn:
        owner = add_user(conn)
        agent_id = add_agent(conn, owner)
        workflow_id = add_workflow(conn, owner, blocks=1)
        # one execution every 20 minutes for 10 hours, statuses cycling
        add_agent_executions(conn, owner, agent_id, 30, minutes_apart=20)
        add_workflow_executions(conn, owner, workflow_id, 30, minutes_apart=20)
        stale_agents = conn.execute(
            text(
                "SELECT id FROM agent_executions WHERE status = 'running' "
                "AND started_at < timezone('utc', now()) - interval '2 hours' ORDER BY started_at"
            )
        ).scalars()
        expected_agents = list(stale_agents)
    with Session(engine) as session:
        session.execute(text(f"SET TIME ZONE '{time_zone}'"))
        stale = queries.get_stale_running_executions(session, older_than=timedelta(hours=2))
        assert [e.id for e in stale.agent_executions] == expected_agents
        assert len(expected_agents) == 8
        assert len(stale.workflow_executions) == 8
        assert {e.status for e in stale.workflow_executions} == {"running"}
        limited = queries.get_stale_running_executions(
            session, older_than=timedelta(hours=2), limit=3
        )
        assert [e.id for e in limited.agent_executions] == expected_agents[:3]
        assert len(limited.workflow_executions) == 3
        none = queries.get_stale_running_executions(session, older_than=timedelta(days=1))
        assert none == queries.StaleExecutions(workflow_executions=[], agent_executions=[])


# -- search ---------------------------------------------------------------------------------


def test_find_agents(engine: Engine) -> None:
    with engine.begin() as conn:
        alice, bob = add_user(conn), add_user(conn)
        a1 = add_agent(
            conn, alice, name="b", configuration={"llm_provider": "ollama", "llm_model": "llama3"}
        )
        a2 = add_agent(
            conn,
            alice,
            name="a",
            configuration={"llm_provider": "ollama", "llm_model": "qwen", "memory": {"on": True}},
        )
        b1 = add_agent(
            conn, bob, name="c", configuration={"llm_provider": "openai", "llm_model": "llama3"}
        )
    with Session(engine) as session:

        def ids(**kwargs: Any) -> list[uuid.UUID]:
            return [a.id for a in queries.find_agents(session, **kwargs)]

        assert ids(llm_provider="ollama") == [a2, a1]  # by name
        assert ids(llm_model="llama3") == [a1, b1]
        assert ids(llm_provider="ollama", llm_model="llama3") == [a1]
        assert ids(config_contains={"memory": {"on": True}}) == [a2]
        assert ids(config_contains={"llm_provider": "openai"}) == [b1]
        assert ids(llm_model="llama3", user_id=bob) == [b1]
        assert ids(user_id=alice, limit=1) == [a2]
        assert ids(llm_provider="anthropic") == []


def test_find_workflows_with_node_type(engine: Engine) -> None:
    with engine.begin() as conn:
        alice, bob = add_user(conn), add_user(conn)
        w1 = add_workflow(conn, alice, blocks=1, name="w1", node_types=("start", "human_review"))
        w2 = add_workflow(conn, bob, blocks=1, name="w2", node_types=("human_review",))
        add_workflow(conn, bob, blocks=1, name="w3", node_types=("start", "end"))
    with Session(engine) as session:

        def ids(node_type: str, **kwargs: Any) -> list[uuid.UUID]:
            found = queries.find_workflows_with_node_type(session, node_type, **kwargs)
            return [w.id for w in found]

        assert ids("human_review") == [w1, w2]
        assert ids("human_review", user_id=bob) == [w2]
        assert ids("human_review", limit=1) == [w1]
        assert ids("review") == []


# -- bad input ------------------------------------------------------------------------------

NOT_UUID = "^{name} must be a UUID \\(uuid.UUID or its string form\\), got 'nope'$"
BAD_LIMIT = "^limit must be an integer from 1 to 1000, got {value}$"
BAD_STATUS = (
    "^status must be one of pending, running, completed, failed, cancelled \\(or None\\), "
    "got 'done'$"
)
U = uuid.uuid4()

BAD_CALLS: list[tuple[str, Callable[[Session], object], str]] = [
    ("workflow id", lambda s: queries.get_workflow_with_relations(s, "nope"),
     NOT_UUID.format(name="workflow_id")),
    ("workflow id int", lambda s: queries.get_workflow_with_relations(s, 7),  # type: ignore[arg-type]
     "^workflow_id must be a UUID .*got 7$"),
    ("agent id", lambda s: queries.get_agent_with_relations(s, "nope"),
     NOT_UUID.format(name="agent_id")),
    ("dashboard user", lambda s: queries.get_dashboard_executions_optimized(s, "nope"),
     NOT_UUID.format(name="user_id")),
    ("dashboard limit 0", lambda s: queries.get_dashboard_executions_optimized(s, U, 0),
     BAD_LIMIT.format(value="0")),
    ("dashboard limit 1001", lambda s: queries.get_dashboard_executions_optimized(s, U, 1001),
     BAD_LIMIT.format(value="1001")),
    ("history limit -1", lambda s: queries.get_workflow_execution_history(s, U, U, limit=-1),
     BAD_LIMIT.format(value="-1")),
    ("history limit bool", lambda s: queries.get_agent_execution_history(s, U, U, limit=True),
     BAD_LIMIT.format(value="True")),
    ("history workflow", lambda s: queries.get_workflow_execution_history(s, U, "nope"),
     NOT_UUID.format(name="workflow_id")),
    ("history status", lambda s: queries.get_workflow_execution_history(s, U, U, status="done"),
     BAD_STATUS),
    ("history before", lambda s: queries.get_agent_execution_history(
        s, U, U, before=(datetime.now(UTC), U)),  # type: ignore[arg-type]
     "^before must be a HistoryCursor"),
    ("agent history agent", lambda s: queries.get_agent_execution_history(s, U, "nope"),
     NOT_UUID.format(name="agent_id")),
    ("session id", lambda s: queries.get_session_executions(s, ""),
     "^session_id must be a non-empty string, got ''$"),
    ("session status", lambda s: queries.get_session_executions(s, "x", status="done"),
     BAD_STATUS),
    ("stale older_than", lambda s: queries.get_stale_running_executions(
        s, older_than=timedelta(0)),
     "^older_than must be a positive timedelta, got datetime.timedelta\\(0\\)$"),
    ("stale limit", lambda s: queries.get_stale_running_executions(s, limit=5000),
     BAD_LIMIT.format(value="5000")),
    ("find user", lambda s: queries.find_agents(s, user_id="nope"),
     NOT_UUID.format(name="user_id")),
    ("find contains", lambda s: queries.find_agents(s, config_contains=[1]),  # type: ignore[arg-type]
     "^config_contains must be a non-empty dict"),
    ("find provider", lambda s: queries.find_agents(s, llm_provider=""),
     "^llm_provider must be a non-empty string, got ''$"),
    ("find limit", lambda s: queries.find_agents(s, limit=0), BAD_LIMIT.format(value="0")),
    ("node type", lambda s: queries.find_workflows_with_node_type(s, ""),
     "^node_type must be a non-empty string, got ''$"),
    ("node user", lambda s: queries.find_workflows_with_node_type(s, "agent", user_id="nope"),
     NOT_UUID.format(name="user_id")),
    ("workflow document", lambda s: queries.get_workflow_document(s, "nope"),
     NOT_UUID.format(name="workflow_id")),
    ("agent document", lambda s: queries.get_agent_document(s, "nope"),
     NOT_UUID.format(name="agent_id")),
    ("builder", lambda s: queries.workflow_execution_history_stmt(U, U, limit=0),
     BAD_LIMIT.format(value="0")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "call", "message"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_value_error_before_any_statement(
    engine: Engine, case: str, call: Callable[[Session], object], message: str
) -> None:
    with (
        Session(engine) as session,
        count_queries(engine) as counted,
        pytest.raises(ValueError, match=message),
    ):
        call(session)
    assert counted.statements == []


def test_limit_bounds_are_inclusive(engine: Engine) -> None:
    with Session(engine) as session:
        assert queries.get_dashboard_executions_optimized(session, U, 1) == []
        assert queries.get_dashboard_executions_optimized(session, U, 1000) == []


def test_history_types_match() -> None:
    # WorkflowExecution and AgentExecution rows both give cursors
    assert queries.cursor_of(WorkflowExecution(id=U, started_at=datetime(2026, 1, 1))).id == U
