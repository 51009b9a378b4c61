"""pyglue.web's routes through a real server and HTTP client: each answers what pyglue says."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
from factories import (
    AGENT_ID,
    USER_ID,
    add_agent_executions,
    add_memories,
    add_memory_agent,
    count_memories,
)
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import TypeAdapter
from served import ADMIN, make_app, require_admin, serve
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from pyglue import maintenance, stats, status, web
from pyglue.dburl import libpq_dsn
from pyglue.maintenance import CleanupPreview, MaintenanceRun
from pyglue.monitoring import PerformanceStats, performance_stats, prometheus_collector
from pyglue.stats import UserDashboard
from pyglue.status import Health, JobState
from pyglue.testing import PostgresCluster

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere?connect_timeout=2"
ADMIN_ROUTES = [
    ("GET", "/performance/stats"),
    ("POST", "/memories/cleanup"),
    ("GET", "/memories/cleanup/preview"),
    ("GET", f"/stats/users/{USER_ID}/dashboard"),
]
_T = TypeVar("_T")


def parsed(kind: type[_T] | Any, response: httpx.Response) -> Any:
    """The JSON body validated back into pyglue's own dataclass (exact: Decimal, dates...)."""
    return TypeAdapter(kind).validate_python(response.json())


def _runs(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status FROM agentdb.maintenance_runs ORDER BY id"))
        return [(int(row.id), row.status) for row in rows]


# ------------------------------------------------------------------ every route


def test_performance_stats_is_performance_stats(instrumented: Engine, client: httpx.Client) -> None:
    with instrumented.connect() as conn:
        for _ in range(3):
            conn.execute(text("SELECT 1"))
    response = client.get("/performance/stats", headers=ADMIN)
    assert response.status_code == 200
    body = parsed(PerformanceStats, response)
    assert body == performance_stats(instrumented)
    assert body.queries_24h >= 3
    top = client.get("/performance/stats", params={"top": 1}, headers=ADMIN)
    assert parsed(PerformanceStats, top) == performance_stats(instrumented, top=1)


def test_metrics_is_the_prometheus_exposition(instrumented: Engine, client: httpx.Client) -> None:
    with instrumented.connect() as conn:
        conn.execute(text("SELECT 1"))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    registry = CollectorRegistry()
    prometheus_collector(instrumented, registry=registry)
    assert response.text == generate_latest(registry).decode()
    assert "pyglue_db_query_duration_seconds_count" in response.text


def test_health_at_head_is_200(instrumented: Engine, client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = parsed(Health, response)
    assert body == status.health(instrumented)
    assert (body.healthy, body.reasons, body.reachable, body.pending) == (True, [], True, [])
    assert body.current_revision == body.head_revision
    assert (body.jobs, body.jobs_note) == ([], None)


def test_health_names_a_failed_job(instrumented: Engine, client: httpx.Client) -> None:
    with instrumented.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agentdb.maintenance_runs (job_name, started_at, finished_at, status,"
                " counts, error) VALUES"
                " ('job-a', '2026-01-01 03:00', '2026-01-01 03:01', 'failed', '{}', 'boom'),"
                " ('job-a', '2026-01-02 03:00', '2026-01-02 03:01', 'succeeded', '{}', NULL),"
                " ('job-b', '2026-01-01 03:00', '2026-01-01 03:01', 'succeeded', '{}', NULL),"
                " ('job-b', '2026-01-02 03:00', '2026-01-02 03:01', 'failed', '{}', 'boom')"
            )
        )
    response = client.get("/health")
    assert response.status_code == 503
    body = parsed(Health, response)
    assert body == status.health(instrumented)
    started = body.jobs[1].started_at
    assert body.reasons == [
        f"the newest run of job-b failed (started {started:%Y-%m-%d %H:%M:%S%z})"
    ]
    assert [(job.job_name, job.status) for job in body.jobs] == [
        ("job-a", "succeeded"),
        ("job-b", "failed"),
    ]
    assert isinstance(body.jobs[0], JobState)


def test_health_behind_head_is_503(baseline_url: str) -> None:
    engine = create_engine(baseline_url, poolclass=NullPool)
    try:
        with serve(make_app(engine, admin=require_admin)) as http:
            response = http.get("/health")
            dashboard = http.get(f"/stats/users/{USER_ID}/dashboard", headers=ADMIN)
        assert dashboard.status_code == 503  # NotInstalled
        assert dashboard.json()["detail"].endswith("at an older revision: run pyglue install)")
        assert response.status_code == 503
        body = parsed(Health, response)
        assert body == status.health(engine)
        assert body.current_revision == "0001"
        assert body.pending[0] == "0002"
        assert body.reasons == [
            f"revision 0001 is behind head {body.head_revision}"
            f" (pending {', '.join(body.pending)}): run pyglue install"
        ]
        assert body.jobs_note == "agentdb is not installed"
    finally:
        engine.dispose()


def test_unreachable_database_is_503() -> None:
    engine = create_engine(UNREACHABLE, poolclass=NullPool)
    with serve(make_app(engine, admin=require_admin)) as http:
        health = http.get("/health")
        dashboard = http.get(f"/stats/users/{USER_ID}/dashboard", headers=ADMIN)
    assert health.status_code == 503
    body = parsed(Health, health)
    assert (body.healthy, body.reachable, body.current_revision) == (False, False, None)
    assert body.reasons[0].startswith("cannot reach the database")
    assert dashboard.status_code == 503
    assert "cannot reach the database" in dashboard.json()["detail"]


def test_cleanup_returns_its_run_row(instrumented: Engine, client: httpx.Client) -> None:
    add_memory_agent(instrumented)
    with instrumented.begin() as conn:
        add_memories(conn, 12, type_="episodic", age=45 * DAY)
        add_memories(conn, 3, type_="short_term", age=2 * DAY)
    dry = client.post("/memories/cleanup", params={"dry_run": True}, headers=ADMIN)
    assert dry.status_code == 200
    dry_run = parsed(MaintenanceRun, dry)
    assert dry_run == maintenance.get_run(instrumented, dry_run.id)
    assert (dry_run.status, dry_run.dry_run, dry_run.rows_deleted) == ("succeeded", True, 15)
    assert count_memories(instrumented) == 15
    response = client.post("/memories/cleanup", params={"batch_size": 5}, headers=ADMIN)
    assert response.status_code == 200
    run = parsed(MaintenanceRun, response)
    assert run == maintenance.get_run(instrumented, run.id)
    assert (run.status, run.dry_run, run.rows_deleted, run.batches) == ("succeeded", False, 15, 3)
    assert run.counts["batch_size"] == 5


def test_preview_is_preview_memory_cleanup(instrumented: Engine, client: httpx.Client) -> None:
    add_memory_agent(instrumented)
    with instrumented.begin() as conn:
        add_memories(conn, 4, type_="episodic", age=45 * DAY)
    before = maintenance.preview_memory_cleanup(instrumented)
    response = client.get("/memories/cleanup/preview", headers=ADMIN)
    after = maintenance.preview_memory_cleanup(instrumented)
    assert response.status_code == 200
    preview = parsed(list[CleanupPreview], response)
    # the same rows; each cutoff is now() - max_age, so per call: served as UTC, between the
    # cutoffs of the two direct calls
    assert [replace(p, cutoff=None) for p in preview] == [replace(p, cutoff=None) for p in after]
    for b, p, a in zip(before, preview, after, strict=True):
        assert b.cutoff.replace(tzinfo=UTC) <= p.cutoff <= a.cutoff.replace(tzinfo=UTC)
    assert {p.policy_name: p.rows for p in preview}["episodic_low"] == 4


def test_dashboard_is_user_dashboard(instrumented: Engine, client: httpx.Client) -> None:
    add_memory_agent(instrumented)
    with instrumented.begin() as conn:
        add_agent_executions(conn, USER_ID, AGENT_ID, 40, minutes_apart=60 * 5)
    for params, days in (({}, 30), ({"days": 2}, 2)):
        response = client.get(f"/stats/users/{USER_ID}/dashboard", params=params, headers=ADMIN)
        assert response.status_code == 200
        dashboard = parsed(UserDashboard, response)
        assert dashboard == stats.user_dashboard(instrumented, USER_ID, days)
    assert parsed(UserDashboard, response).total < 40
    stranger = client.get(f"/stats/users/{uuid.uuid4()}/dashboard", headers=ADMIN)
    assert parsed(UserDashboard, stranger).total == 0


# --------------------------------------------------------------------- refusals


def test_admin_routes_are_closed_without_an_admin_dependency(instrumented: Engine) -> None:
    with serve(make_app(instrumented)) as http:
        for method, path in ADMIN_ROUTES:
            response = http.request(method, path, headers=ADMIN)
            assert response.status_code == 403, path
            assert "pass agentdb_router(engine, admin=" in response.json()["detail"]
        assert http.get("/health").status_code == 200
        assert http.get("/metrics").status_code == 200
    assert _runs(instrumented) == []


def test_admin_routes_ask_the_apps_dependency(instrumented: Engine, client: httpx.Client) -> None:
    for method, path in ADMIN_ROUTES:
        response = client.request(method, path, headers={"X-Admin-Token": "guess"})
        assert (response.status_code, response.json()) == (
            401,
            {"detail": "admin token required"},
        ), path
    assert _runs(instrumented) == []


def test_dashboard_viewer_dependency(instrumented: Engine) -> None:
    def own_dashboard_only(user_id: uuid.UUID) -> None:
        if user_id != USER_ID:
            from fastapi import HTTPException

            raise HTTPException(403, "not your dashboard")

    app = make_app(instrumented, admin=require_admin, viewer=own_dashboard_only)
    with serve(app) as http:
        assert http.get(f"/stats/users/{USER_ID}/dashboard").status_code == 200
        other = http.get(f"/stats/users/{uuid.uuid4()}/dashboard")
        assert (other.status_code, other.json()) == (403, {"detail": "not your dashboard"})
        assert http.get("/memories/cleanup/preview").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "params", "loc"),
    [
        ("POST", "/memories/cleanup", {"batch_size": 0}, ["query", "batch_size"]),
        ("POST", "/memories/cleanup", {"batch_size": -3}, ["query", "batch_size"]),
        ("POST", "/memories/cleanup", {"batch_size": 2**31}, ["query", "batch_size"]),
        ("POST", "/memories/cleanup", {"batch_size": "many"}, ["query", "batch_size"]),
        ("POST", "/memories/cleanup", {"dry_run": "perhaps"}, ["query", "dry_run"]),
        ("GET", f"/stats/users/{USER_ID}/dashboard", {"days": 0}, ["query", "days"]),
        ("GET", f"/stats/users/{USER_ID}/dashboard", {"days": 3661}, ["query", "days"]),
        ("GET", f"/stats/users/{USER_ID}/dashboard", {"days": 2**40}, ["query", "days"]),
        ("GET", "/stats/users/not-a-uuid/dashboard", {}, ["path", "user_id"]),
        ("GET", "/performance/stats", {"top": 0}, ["query", "top"]),
    ],
)
def test_bad_parameters_are_422_naming_them(
    instrumented: Engine,
    client: httpx.Client,
    method: str,
    path: str,
    params: dict[str, Any],
    loc: list[str],
) -> None:
    response = client.request(method, path, params=params, headers=ADMIN)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [loc]
    assert _runs(instrumented) == []


def test_a_refusal_from_the_server_is_422_naming_the_parameter(instrumented: Engine) -> None:
    """The ranges the schema states come first; a refusal the routine itself makes maps alike."""
    app = make_app(instrumented, admin=require_admin)

    @app.get("/agentdb/raw-dashboard")
    async def raw_dashboard(days: int) -> Any:
        return await web._off_loop(stats.user_dashboard, instrumented, USER_ID, days)

    with serve(app) as http:
        response = http.get("/raw-dashboard", params={"days": web.DASHBOARD_MAX_DAYS + 1})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "value_error",
            "loc": ["query", "days"],
            "msg": f"p_days must be between 1 and 3660, got {web.DASHBOARD_MAX_DAYS + 1}",
        }
    ]
    # the schema's range is the routine's
    stats.user_dashboard(instrumented, USER_ID, web.DASHBOARD_MAX_DAYS)


@pytest.fixture
def app_role_url(pg_cluster: PostgresCluster, head_url: str) -> Iterator[str]:
    """A LOGIN role that is a member of agentdb_app only (not agentdb_admin)."""
    name = f"test_app_{uuid.uuid4().hex[:8]}"
    dsn = libpq_dsn(make_url(head_url))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE agentdb_app')
    yield make_url(head_url).set(username=name).render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
        )
        conn.execute(f'DROP OWNED BY "{name}"')
        conn.execute(f'DROP ROLE "{name}"')


def test_permission_denied_is_403(app_role_url: str, engine: Engine) -> None:
    app_engine = create_engine(app_role_url, poolclass=NullPool)
    try:
        with serve(make_app(app_engine, admin=require_admin)) as http:
            cleanup = http.post("/memories/cleanup", headers=ADMIN)
            preview = http.get("/memories/cleanup/preview", headers=ADMIN)
            dashboard = http.get(f"/stats/users/{USER_ID}/dashboard", headers=ADMIN)
    finally:
        app_engine.dispose()
    for response in (cleanup, preview):
        assert response.status_code == 403
        assert "grant the role agentdb_admin" in response.json()["detail"]
    assert dashboard.status_code == 200  # agentdb_app reads dashboards
    assert _runs(engine) == []


# ------------------------------------------------------------------ concurrency


def _wait_for(condition: Callable[[], _T | None], what: str, timeout: float = 60) -> _T:
    """Poll `condition` until it gives a value (a state of the database, never a duration)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found is not None:
            return found
        time.sleep(0.02)
    raise AssertionError(f"never saw {what}")


def test_cleanup_twice_at_once_is_200_and_409(instrumented: Engine, client: httpx.Client) -> None:
    add_memory_agent(instrumented)
    with instrumented.begin() as conn:
        add_memories(conn, 5, type_="episodic", age=45 * DAY)
        # consolidation will promote this one: a row lock on it holds the first run there
        add_memories(conn, 1, type_="short_term", age=13 * HOUR, access_count=3, content="held")
    holder = psycopg.connect(libpq_dsn(instrumented.url))
    holder.execute("SELECT id FROM agent_memories WHERE content = 'held' FOR UPDATE")

    def blocked_run() -> int | None:
        with instrumented.connect() as conn:
            return conn.execute(
                text(
                    "SELECT r.id FROM pg_stat_activity a, agentdb.maintenance_runs r"
                    " WHERE a.query LIKE 'CALL agentdb.run_memory_maintenance%'"
                    " AND a.wait_event_type = 'Lock' AND r.status = 'running'"
                )
            ).scalar()

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(client.post, "/memories/cleanup", headers=ADMIN)
            running_id = _wait_for(blocked_run, "the first run waiting on the row lock")
            second = client.post("/memories/cleanup", headers=ADMIN)
            assert second.status_code == 409
            conflict = second.json()
            assert conflict == {
                "detail": "another memory maintenance run holds the lock; this one was skipped",
                "running_run_id": running_id,
                "skipped_run_id": running_id + 1,
            }
            assert maintenance.get_run(instrumented, running_id + 1).status == "skipped"
            holder.rollback()
            response = first.result(timeout=60)
    finally:
        holder.close()
    assert response.status_code == 200
    run = parsed(MaintenanceRun, response)
    assert run == maintenance.get_run(instrumented, running_id)
    assert (run.status, run.consolidated, run.rows_deleted) == ("succeeded", 1, 5)
    assert _runs(instrumented) == [(running_id, "succeeded"), (running_id + 1, "skipped")]
