"""Every public wrapper, the same kinds of bad input: the same error class, naming the parameter.

Types are refused by the wrapper before any statement reaches the server;
ranges by the SQL routine (its message names `p_<parameter>`) or, where no
routine checks them, by the wrapper. Either way: InvalidArgument, which is
also a ConfigurationError and a ValueError.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from pyglue import maintenance, memory, scheduling, stats
from pyglue.errors import ConfigurationError, InvalidArgument, PermissionDenied
from pyglue.monitoring import count_queries, perf_stats, performance_stats, table_health
from pyglue.routines import ADMIN_ROLE, APP_ROLE
from pyglue.testing import PostgresCluster

USER = uuid.UUID(int=1)
AGENT = uuid.UUID(int=11)
DAY = date(2026, 1, 15)

Wrapper = Callable[..., object]


def _recall(engine: Engine, **kwargs: Any) -> object:
    with Session(engine) as session:
        return memory.recall(session, **{"agent_id": AGENT, **kwargs})


def _with(call: Wrapper, **defaults: Any) -> Callable[..., object]:
    """`call(engine, **defaults)` with some arguments replaced."""
    return lambda engine, **kwargs: call(engine, **{**defaults, **kwargs})


WRAPPERS: dict[str, Callable[..., object]] = {
    "stats.user_dashboard": _with(stats.user_dashboard, user_id=USER, days=30),
    "stats.user_daily_stats": _with(
        stats.user_daily_stats, user_id=USER, date_from=DAY, date_to=DAY
    ),
    "stats.agent_stats_summary": _with(stats.agent_stats_summary, user_id=USER, days=30),
    "stats.refresh_execution_stats": _with(
        stats.refresh_execution_stats, date_from=DAY, date_to=DAY
    ),
    "stats.verify_execution_stats": _with(stats.verify_execution_stats, date_from=DAY, date_to=DAY),
    "stats.check_execution_stats": _with(stats.check_execution_stats, day=DAY),
    "maintenance.run_memory_maintenance": _with(maintenance.run_memory_maintenance),
    "maintenance.cleanup_expired_memories": _with(maintenance.cleanup_expired_memories),
    "maintenance.preview_memory_consolidation": _with(maintenance.preview_memory_consolidation),
    "maintenance.consolidate_memories": _with(maintenance.consolidate_memories),
    "maintenance.last_runs": _with(maintenance.last_runs),
    "maintenance.get_run": _with(maintenance.get_run, run_id=1),
    "memory.recall": _recall,
    "monitoring.perf_stats": _with(perf_stats),
    "monitoring.performance_stats": _with(performance_stats),
}

# (wrapper, parameter) by the kind of value the parameter takes
INTEGERS = [
    ("stats.user_dashboard", "days"),
    ("stats.agent_stats_summary", "days"),
    ("maintenance.run_memory_maintenance", "batch_size"),
    ("maintenance.cleanup_expired_memories", "batch_size"),
    ("maintenance.cleanup_expired_memories", "max_batches"),
    ("maintenance.last_runs", "limit"),
    ("maintenance.get_run", "run_id"),
    ("memory.recall", "limit"),
    ("monitoring.perf_stats", "limit"),
    ("monitoring.performance_stats", "top"),
]
DATES = [
    ("stats.user_daily_stats", "date_from"),
    ("stats.user_daily_stats", "date_to"),
    ("stats.refresh_execution_stats", "date_from"),
    ("stats.refresh_execution_stats", "date_to"),
    ("stats.verify_execution_stats", "date_from"),
    ("stats.verify_execution_stats", "date_to"),
    ("stats.check_execution_stats", "day"),
]
IDS = [
    ("stats.user_dashboard", "user_id"),
    ("stats.user_daily_stats", "user_id"),
    ("stats.agent_stats_summary", "user_id"),
    ("maintenance.preview_memory_consolidation", "agent_id"),
    ("maintenance.consolidate_memories", "agent_id"),
    ("memory.recall", "agent_id"),
]
OTHERS = [
    ("maintenance.run_memory_maintenance", "dry_run", "yes"),
    ("maintenance.last_runs", "job_name", 42),
    ("memory.recall", "session_id", 42),
    ("memory.recall", "types", "short_term"),
    ("memory.recall", "types", ["semantic"]),
    ("monitoring.performance_stats", "window", "7d"),
    ("maintenance.get_run", "run_id", 2**63),  # a bigint id: 10**12 is a valid one
]
BAD_INTEGERS = [True, 10**12, "5", 2.5]
BAD_DATES = [datetime(2026, 1, 15, 12, 0), "2026-01-15", 20260115]
BAD_IDS = ["bad", 42]

TYPE_CASES = (
    [(w, p, v) for w, p in INTEGERS for v in BAD_INTEGERS if (p, v) != ("run_id", 10**12)]
    + [(w, p, v) for w, p in DATES for v in BAD_DATES]
    + [(w, p, v) for w, p in IDS for v in BAD_IDS]
    + OTHERS
)


@pytest.fixture(scope="module")
def shared(pg_cluster: PostgresCluster, head_template: str) -> Iterator[Engine]:
    """One database for the module: every call here is refused, so none changes it."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_cluster.create_database(name, template=head_template))
    try:
        yield engine
    finally:
        engine.dispose()
        pg_cluster.drop_database(name)


def _assert_names(error: InvalidArgument, parameter: str) -> None:
    assert isinstance(error, ConfigurationError)
    assert isinstance(error, ValueError)
    assert error.parameter in (parameter, f"p_{parameter}")
    assert parameter in str(error)


@pytest.mark.parametrize(("wrapper", "parameter", "value"), TYPE_CASES)
def test_a_bad_type_is_refused_before_the_server(
    shared: Engine, wrapper: str, parameter: str, value: object
) -> None:
    with count_queries(shared) as statements, pytest.raises(InvalidArgument) as caught:
        WRAPPERS[wrapper](shared, **{parameter: value})
    _assert_names(caught.value, parameter)
    assert caught.value.sqlstate is None
    assert statements.count == 0


@pytest.mark.parametrize(("wrapper", "parameter"), INTEGERS)
@pytest.mark.parametrize("value", [0, -3])
def test_an_out_of_range_number_is_refused(
    shared: Engine, wrapper: str, parameter: str, value: int
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        WRAPPERS[wrapper](shared, **{parameter: value})
    _assert_names(caught.value, parameter)
    assert str(value) in str(caught.value)


BIND_ONLY: dict[str, Callable[..., object]] = {
    "monitoring.table_health": table_health,
    "scheduling.schedule_maintenance": scheduling.schedule_maintenance,
    "scheduling.unschedule_maintenance": scheduling.unschedule_maintenance,
}


# memory.recall is left out: it takes the caller's Session and uses it as it is
@pytest.mark.parametrize("wrapper", [*(w for w in WRAPPERS if w != "memory.recall"), *BIND_ONLY])
def test_a_wrong_bind_is_a_type_error(wrapper: str) -> None:
    call = WRAPPERS.get(wrapper) or BIND_ONLY[wrapper]
    with pytest.raises(TypeError, match=r"(bind|engine) must be a SQLAlchemy"):
        call("postgresql://somewhere/db")


@pytest.fixture
def app_engine(head_url: str) -> Iterator[Engine]:
    """An Engine for a LOGIN role that is a member of agentdb_app only."""
    name = f"test_app_{uuid.uuid4().hex[:8]}"
    admin = create_engine(head_url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN IN ROLE {APP_ROLE}'))
    url = make_url(head_url).set(username=name)
    engine = create_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))
        admin.dispose()


ADMIN_ONLY: dict[str, Callable[[Engine], object]] = {
    "stats.refresh_execution_stats": lambda e: stats.refresh_execution_stats(e, DAY, DAY),
    "stats.verify_execution_stats": lambda e: stats.verify_execution_stats(e, DAY, DAY),
    "stats.check_execution_stats": stats.check_execution_stats,
    "maintenance.run_memory_maintenance": maintenance.run_memory_maintenance,
    "maintenance.preview_memory_cleanup": maintenance.preview_memory_cleanup,
    "maintenance.cleanup_expired_memories": maintenance.cleanup_expired_memories,
    "maintenance.last_runs": maintenance.last_runs,
    "monitoring.perf_stats": perf_stats,
    "scheduling.schedule_maintenance": scheduling.schedule_maintenance,
    "scheduling.unschedule_maintenance": scheduling.unschedule_maintenance,
}


@pytest.mark.parametrize("wrapper", ADMIN_ONLY)
def test_an_admin_wrapper_names_the_admin_role(app_engine: Engine, wrapper: str) -> None:
    with pytest.raises(PermissionDenied) as caught:
        ADMIN_ONLY[wrapper](app_engine)
    assert caught.value.role_needed == ADMIN_ROLE
    assert str(caught.value).startswith("agentdb.")
    assert str(caught.value).endswith(f"(grant the role {ADMIN_ROLE} to this user)")
