"""Issue 12, item 9: every public routine, any argument: a right answer or a named error.

Hypothesis draws each parameter of every routine in schema agentdb (found in
the catalog, so a new routine is fuzzed without a change here) from its SQL
type: NULL, extremes, non-finite dates and times, odd text and json. A call
must either succeed or fail with a named error: SQLSTATE 22023/23514 (or the
routine's own 55000/P0002) and a message that names the parameter (`p_...`).
Anything else (a datetime overflow, a division by zero, an internal error, a
statement that runs past statement_timeout) is a finding.

Then the same through the Python wrappers (sync): any value for any
parameter gives the wrapper's answer or a pyglue error, never a raw driver
error or a TypeError.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool
from test_wrapper_arguments import DATES, IDS, INTEGERS, OTHERS, WRAPPERS

from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.errors import PyglueError
from pyglue.testing import PostgresCluster

ROUTINES = """
SELECT p.proname, p.prokind,
       coalesce(array_agg(format_type(a.type, NULL) ORDER BY a.n) FILTER (WHERE a.n IS NOT NULL),
                '{}'),
       coalesce(array_agg(a.name ORDER BY a.n) FILTER (WHERE a.n IS NOT NULL), '{}')
FROM pg_proc p
LEFT JOIN LATERAL unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                         coalesce(p.proargnames, '{}'::text[]),
                         coalesce(p.proargmodes, '{}'::"char"[]))
          WITH ORDINALITY AS a (type, name, mode, n) ON a.mode IS NULL OR a.mode IN ('i', 'b')
LEFT JOIN pg_type t ON t.oid = a.type
WHERE p.pronamespace = 'agentdb'::regnamespace AND p.prorettype <> 'trigger'::regtype
GROUP BY p.oid, p.proname, p.prokind
ORDER BY p.proname
"""
# the only failures a routine may answer with, when its message names the parameter
NAMED = {"22023", "23514", "55000", "P0002"}
STATEMENT_TIMEOUT = "10s"

# what a text or json value can hold: no NUL, no lone surrogate
CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])
words = st.sampled_from(
    ["", " ", "succeeded", "failed", "short_term", "long_term", "episodic", "low", "created",
     "last_access", "$1", "$1[2]", "agentdb-memory-maintenance", "* * * * *", "SELECT 1",
     "x" * 3000, "'; DROP TABLE users; --", "é\u2028😀"]
)  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(CHARS, max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(CHARS, max_size=5), inner),
    max_leaves=6,
)
STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "integer": st.integers(-(2**31), 2**31 - 1) | st.sampled_from([0, 1, -1, 2**31 - 1]),
    "bigint": st.integers(-(2**63), 2**63 - 1) | st.sampled_from([0, 1, -1]),
    "boolean": st.booleans(),
    "text": words | st.text(CHARS, max_size=20),
    "jsonb": json_values.map(Jsonb),
    # dates Python can read back; non-finite and BC ones: the test after this one
    "date": st.dates(),
    "uuid": st.uuids(),
    # tables the platform has: none is partitioned before the partitioning revision
    "regclass": st.sampled_from(["public.agents", "public.agent_executions", "pg_class"]),
    "uuid[]": st.lists(st.uuids(), max_size=3),
    "interval": st.timedeltas(min_value=timedelta(days=-(10**6)), max_value=timedelta(days=10**6))
    | st.sampled_from(["10000 years", "-178000000 years", "1 microsecond"]),
    "double precision": st.floats(allow_nan=True, allow_infinity=True),
    "timestamp with time zone": st.datetimes(timezones=st.just(UTC))
    | st.sampled_from(["infinity", "-infinity"]),
}


@pytest.fixture(scope="module")
def fuzz_url(pg_cluster: PostgresCluster, head_template: str) -> Iterator[str]:
    name = f"fuzz_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(name, template=head_template)
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture(scope="module")
def routines(fuzz_url: str) -> list[tuple[str, str, list[str], list[str]]]:
    with psycopg.connect(libpq_dsn(resolve_url(fuzz_url))) as conn:
        return [
            (str(r[0]), str(r[1]), list(r[2]), list(r[3]))  # type: ignore[call-overload]
            for r in conn.execute(ROUTINES).fetchall()
        ]


def _call(
    conn: psycopg.Connection[Any], name: str, kind: str, types: list[str], values: list[Any]
) -> None:
    placeholders = ", ".join(f"%s::{t}" for t in types)
    if kind == "p":
        conn.execute(f"CALL agentdb.{name}({placeholders})", values)
    else:
        conn.execute(f"SELECT * FROM agentdb.{name}({placeholders})", values).fetchall()


def _finding(name: str, values: list[Any], error: psycopg.Error) -> str | None:
    state = error.sqlstate or ""
    message = str(error.diag.message_primary or error)
    if state in NAMED and message.startswith(("p_", "memory_policies.", "retention_policies.")):
        return None
    return f"agentdb.{name}{tuple(values)!r}: [{state}] {message}"


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_routine_gives_an_answer_or_a_named_error(
    fuzz_url: str, routines: list[tuple[str, str, list[str], list[str]]], data: st.DataObject
) -> None:
    name, kind, types, _names = data.draw(st.sampled_from(routines), label="routine")
    values = [
        data.draw(st.none() | STRATEGIES[t], label=n) for t, n in zip(types, _names, strict=True)
    ]
    with psycopg.connect(libpq_dsn(resolve_url(fuzz_url)), autocommit=(kind == "p")) as conn:
        conn.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
        try:
            _call(conn, name, kind, types, values)
        except psycopg.Error as error:
            finding = _finding(name, values, error)
            assert finding is None, finding
        finally:
            if kind != "p":
                conn.rollback()


# (routine, its date parameters in order) and the dates no day of the rollups can be
DATE_ROUTINES = {
    "check_execution_stats": ["p_day"],
    "raw_agent_execution_stats": ["p_from", "p_to"],
    "raw_workflow_execution_stats": ["p_from", "p_to"],
    "refresh_execution_stats": ["p_from", "p_to"],
    "user_daily_stats": ["p_user_id", "p_from", "p_to"],
    "verify_execution_stats": ["p_from", "p_to"],
}
ODD_DATES = ["infinity", "-infinity", "4713-01-01 BC"]


def _odd_date_cases() -> list[Any]:
    cases = []
    for name, parameters in DATE_ROUTINES.items():
        for parameter in parameters:
            if parameter == "p_user_id":
                continue
            for odd in ODD_DATES:
                cases.append(pytest.param(name, parameter, odd))
    return cases


@pytest.mark.parametrize(("routine", "parameter", "odd"), _odd_date_cases())
def test_a_date_no_day_can_be_gives_an_answer_or_a_named_error(
    fuzz_url: str, routine: str, parameter: str, odd: str
) -> None:
    parameters = DATE_ROUTINES[routine]
    types = ["uuid" if p == "p_user_id" else "date" for p in parameters]
    values: list[Any] = [
        odd if p == parameter else uuid.UUID(int=1) if p == "p_user_id" else date(2026, 1, 15)
        for p in parameters
    ]
    with psycopg.connect(libpq_dsn(resolve_url(fuzz_url))) as conn:
        try:
            _call(conn, routine, "f", types, values)
        except psycopg.Error as error:
            finding = _finding(routine, values, error)
            assert finding is None, finding
        finally:
            conn.rollback()


# --- the Python wrappers: any value for any parameter ---
PARAMETERS = sorted({(w, p) for w, p in INTEGERS + DATES + IDS} | {(w, p) for w, p, _ in OTHERS})
anything = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
    | st.dates() | st.datetimes() | st.timedeltas() | st.uuids() | st.binary(max_size=4)
    | st.lists(st.integers(), max_size=2) | st.sampled_from([math.inf, 2**31, 2**63, -1, 0])
)  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_engine(fuzz_url: str) -> Iterator[Engine]:
    engine = create_engine(fuzz_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_wrapper_gives_an_answer_or_a_pyglue_error(
    fuzz_engine: Engine, data: st.DataObject
) -> None:
    wrapper, parameter = data.draw(st.sampled_from(PARAMETERS), label="wrapper, parameter")
    value = data.draw(anything, label=parameter)
    # a pyglue error is a named answer; anything else (a raw driver error, a
    # TypeError) fails the test
    with contextlib.suppress(PyglueError):
        WRAPPERS[wrapper](fuzz_engine, **{parameter: value})
