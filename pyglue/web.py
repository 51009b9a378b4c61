"""agentdb's endpoints as a FastAPI router (extra pyglue[fastapi]: pip install 'agentdb[fastapi]').

    app.include_router(agentdb_router(engine, admin=require_admin))

Routes (under `prefix`, default /agentdb):

    GET  /health                              open: 200 healthy, 503 with the reasons
    GET  /metrics                             open: Prometheus text exposition
    GET  /performance/stats                   admin: pyglue.monitoring.performance_stats
    POST /memories/cleanup?dry_run&batch_size admin: the run row; 409 while another run holds
    GET  /memories/cleanup/preview            admin: rows and bytes each policy would delete
    GET  /stats/users/{user_id}/dashboard     viewer (default: admin): pyglue.stats.user_dashboard

`admin` is the app's own dependency (a callable or a `Depends(...)`); without
one the admin routes answer 403. Every database call runs in the threadpool,
each on a connection of its own (never the request's transaction). pyglue's
errors become HTTP: InvalidArgument 422 naming the parameter, PermissionDenied
403, DatabaseUnreachable and NotInstalled 503.
"""

import dataclasses
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ParamSpec, TypeVar
from uuid import UUID

try:
    from fastapi import APIRouter, Depends, HTTPException, Query, Response
    from fastapi.concurrency import run_in_threadpool
    from fastapi.exceptions import RequestValidationError
    from fastapi.params import Depends as DependsParam
    from fastapi.responses import JSONResponse
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from pydantic import AfterValidator, BaseModel, ConfigDict, create_model
except ImportError as exc:  # pragma: no cover - tested in a subprocess without FastAPI
    raise ImportError(
        "pyglue.web needs FastAPI and prometheus-client, the extra pyglue[fastapi]:"
        " pip install 'agentdb[fastapi]'"
    ) from exc

from sqlalchemy import Engine

from pyglue import maintenance, stats, status
from pyglue.arguments import INT4_MAX
from pyglue.errors import DatabaseUnreachable, InvalidArgument, NotInstalled, PermissionDenied
from pyglue.monitoring import PerformanceStats, performance_stats, prometheus_collector
from pyglue.monitoring.stats import MAX_LIMIT
from pyglue.routines import ADMIN_ROLE, call

__all__ = ["CleanupConflict", "agentdb_router", "model_of"]

# agentdb.user_dashboard's own range for p_days, stated here for the OpenAPI schema
DASHBOARD_MAX_DAYS = 3660

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _utc(moment: datetime) -> datetime:
    """agentdb's `timestamp` columns hold UTC: say so (an RFC 3339 date-time has an offset)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


def _served(hint: Any) -> Any:
    """The field type as served: a naive datetime is UTC."""
    if hint is datetime:
        return UtcDateTime
    if hint == datetime | None:
        return UtcDateTime | None
    return hint


def model_of(cls: type[Any]) -> type[BaseModel]:
    """A Pydantic model with the fields, types and docstring of the frozen dataclass `cls`."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {
        field.name: (_served(hints[field.name]), ...) for field in dataclasses.fields(cls)
    }
    return create_model(
        cls.__name__,
        __config__=ConfigDict(from_attributes=True, frozen=True),
        __doc__=cls.__doc__,
        **fields,
    )


HealthModel = model_of(status.Health)
PerformanceStatsModel = model_of(PerformanceStats)
MaintenanceRunModel = model_of(maintenance.MaintenanceRun)
CleanupPreviewModel = model_of(maintenance.CleanupPreview)
UserDashboardModel = model_of(stats.UserDashboard)


class CleanupConflict(BaseModel):
    """Another memory maintenance run holds the lock: this request's run was logged as skipped."""

    detail: str
    running_run_id: int | None
    skipped_run_id: int


def _unprocessable(exc: InvalidArgument) -> RequestValidationError:
    """FastAPI's own 422 shape, located at the query parameter the error names."""
    name = (exc.parameter or "").removeprefix("p_")
    location = ("query", name) if name else ("query",)
    return RequestValidationError([{"type": "value_error", "loc": location, "msg": str(exc)}])


async def _off_loop(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """`function` in the threadpool (it blocks on the database); pyglue's errors as HTTP."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except InvalidArgument as exc:
        raise _unprocessable(exc) from exc
    except PermissionDenied as exc:
        raise HTTPException(403, str(exc)) from exc
    except (DatabaseUnreachable, NotInstalled) as exc:
        raise HTTPException(503, str(exc)) from exc


def _running_run_id(engine: Engine) -> int | None:
    """The memory maintenance run marked running now (the one holding the advisory lock)."""
    rows = call(
        engine,
        "SELECT id FROM agentdb.maintenance_runs WHERE job_name = :job AND status = 'running'"
        " ORDER BY started_at DESC, id DESC LIMIT 1",
        {"job": maintenance.MEMORY_JOB},
        routine="agentdb.maintenance_runs",
        role=ADMIN_ROLE,
    )
    return int(rows[0][0]) if rows else None


def _closed() -> None:
    raise HTTPException(
        403, "agentdb's admin routes are closed: pass agentdb_router(engine, admin=<dependency>)"
    )


def _dependency(guard: Callable[..., Any] | DependsParam | None) -> DependsParam:
    if isinstance(guard, DependsParam):
        return guard
    dependency: DependsParam = Depends(guard or _closed)
    return dependency


def agentdb_router(
    engine: Engine,
    *,
    admin: Callable[..., Any] | DependsParam | None = None,
    viewer: Callable[..., Any] | DependsParam | None = None,
    prefix: str = "/agentdb",
    read_engine: Engine | None = None,
) -> APIRouter:
    """The agentdb routes over `engine`, guarded by the app's `admin` dependency.

    `viewer` guards the dashboard (it may take the path's `user_id`, to let a
    user see their own); by default it is `admin`. The engine is instrumented
    with the defaults unless it already is (call `instrument` first to choose).
    `read_engine` (a read replica) serves the dashboard, which only reads;
    by default `engine` does.
    """
    for given in (engine, read_engine if read_engine is not None else engine):
        if not isinstance(given, Engine):
            raise TypeError(f"engine must be a SQLAlchemy Engine, not {type(given).__name__}")
    reads = read_engine if read_engine is not None else engine
    admin_only = _dependency(admin)
    may_view = _dependency(viewer) if viewer is not None else admin_only
    registry = CollectorRegistry(auto_describe=True)
    prometheus_collector(engine, registry=registry)
    router = APIRouter(prefix=prefix, tags=["agentdb"])
    closed: dict[int | str, dict[str, Any]] = {403: {"description": "not an admin"}}
    unavailable: dict[int | str, dict[str, Any]] = {503: {"description": "database unavailable"}}

    @router.get("/health", response_model=HealthModel, responses={503: {"model": HealthModel}})
    async def health(response: Response) -> Any:
        """Database reachable, revision at head, pg_cron, each job's newest run (503: unhealthy)."""
        state = await _off_loop(status.health, engine)
        if not state.healthy:
            response.status_code = 503
        return state

    @router.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus"}},
    )
    async def metrics() -> Response:
        """Statement durations, slow statements, N+1 warnings and pool gauges (Prometheus)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/performance/stats",
        response_model=PerformanceStatsModel,
        dependencies=[admin_only],
        responses=closed,
    )
    async def performance(
        top: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description="statement shapes by total time")
        ] = 10,
    ) -> Any:
        """Average query time, slow statements and queries in 24 h, pool status, top statements."""
        return await _off_loop(performance_stats, engine, top=top)

    @router.post(
        "/memories/cleanup",
        response_model=MaintenanceRunModel,
        dependencies=[admin_only],
        responses={409: {"model": CleanupConflict}, **closed, **unavailable},
    )
    async def cleanup(
        dry_run: Annotated[bool, Query(description="record the counts, delete nothing")] = False,
        batch_size: Annotated[
            int, Query(ge=1, le=INT4_MAX, description="rows per batch and policy")
        ] = maintenance.DEFAULT_BATCH_SIZE,
    ) -> Any:
        """Consolidate, then delete expired memories in batches; the run's row."""
        run = await _off_loop(
            maintenance.run_memory_maintenance, engine, batch_size=batch_size, dry_run=dry_run
        )
        if run is None:
            raise HTTPException(503, "the database is a standby: the primary runs the maintenance")
        if run.status == "skipped":
            conflict = CleanupConflict(
                detail="another memory maintenance run holds the lock; this one was skipped",
                running_run_id=await _off_loop(_running_run_id, engine),
                skipped_run_id=run.id,
            )
            return JSONResponse(conflict.model_dump(), status_code=409)
        return run

    @router.get(
        "/memories/cleanup/preview",
        response_model=list[CleanupPreviewModel],  # type: ignore[valid-type]
        dependencies=[admin_only],
        responses={**closed, **unavailable},
    )
    async def cleanup_preview() -> Any:
        """Rows and approximate bytes each enabled memory policy would delete now."""
        return await _off_loop(maintenance.preview_memory_cleanup, engine)

    @router.get(
        "/stats/users/{user_id}/dashboard",
        response_model=UserDashboardModel,
        dependencies=[may_view],
        responses={**closed, **unavailable},
    )
    async def dashboard(
        user_id: UUID,
        days: Annotated[
            int, Query(ge=1, le=DASHBOARD_MAX_DAYS, description="the UTC days today-days..today")
        ] = 30,
    ) -> Any:
        """A user's exact totals over the last `days` days (agentdb.user_dashboard)."""
        return await _off_loop(stats.user_dashboard, reads, user_id, days)

    return router
