"""One lint over every agentdb routine, in a database at head with pg_cron (as the jobs run).

Every routine has a COMMENT and a fixed search_path, none is executable by
PUBLIC, and plpgsql_check finds no error and no warning in any of them. A
procedure that COMMITs cannot carry `SET search_path`: it must pin it itself
at the start of each transaction, and the lint accepts that form only there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

PINNED = "search_path=pg_catalog, pg_temp"
PIN_CALL = "PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);"


@pytest.fixture(scope="module")
def routines(cron_engine: Engine) -> list[dict[str, object]]:
    with cron_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.oid::regprocedure::text AS name, p.prokind, l.lanname, p.proconfig,"
                "       p.prosrc, obj_description(p.oid, 'pg_proc') AS comment,"
                "       p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a"
                "           WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_execute"
                "  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                " WHERE p.pronamespace = 'agentdb'::regnamespace ORDER BY 1"
            )
        )
        return [dict(row._mapping) for row in rows]


@pytest.fixture
def plpgsql_check(cron_engine: Engine) -> Iterator[Engine]:
    with cron_engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS plpgsql_check"))
    try:
        yield cron_engine
    finally:
        with cron_engine.begin() as conn:
            conn.execute(text("DROP EXTENSION plpgsql_check"))


def test_the_lint_sees_every_routine(routines: list[dict[str, object]]) -> None:
    assert len(routines) >= 30


def test_every_routine_has_a_comment(routines: list[dict[str, object]]) -> None:
    assert [r["name"] for r in routines if not r["comment"]] == []


def test_every_function_sets_search_path(routines: list[dict[str, object]]) -> None:
    functions = [r for r in routines if r["prokind"] == "f"]
    # other settings may follow (0019: the *_stats_now reads turn seq scans off)
    assert [r["name"] for r in functions if PINNED not in (r["proconfig"] or [])] == []


def test_a_committing_procedure_pins_search_path_in_each_transaction(
    routines: list[dict[str, object]],
) -> None:
    procedures = [r for r in routines if r["prokind"] == "p"]
    assert procedures
    for procedure in procedures:
        body = str(procedure["prosrc"])
        assert procedure["proconfig"] is None, procedure["name"]
        first = re.search(r"\bBEGIN\s*\n\s*(.+)", body)
        assert first is not None, procedure["name"]
        assert first.group(1).strip() == PIN_CALL, (
            f"{procedure['name']}: the first statement must pin search_path"
        )
        after_commit = re.findall(r"\bCOMMIT;\s*\n\s*(.+)", body)
        assert after_commit
        assert all(line.strip() == PIN_CALL for line in after_commit), (
            f"{procedure['name']}: every COMMIT must be followed by the search_path pin"
        )


def test_no_routine_is_executable_by_public(routines: list[dict[str, object]]) -> None:
    assert [r["name"] for r in routines if r["public_execute"]] == []


def test_plpgsql_check_finds_nothing(plpgsql_check: Engine) -> None:
    with plpgsql_check.connect() as conn:
        findings = conn.execute(
            text(
                "SELECT p.oid::regprocedure::text, c.level, c.message"
                "  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                "  LEFT JOIN LATERAL (SELECT t.tgrelid FROM pg_trigger t"
                "                      WHERE t.tgfoid = p.oid LIMIT 1) t ON true,"
                "  LATERAL plpgsql_check_function_tb(p.oid::regprocedure, coalesce(t.tgrelid, 0),"
                "                                    extra_warnings => true) c"
                " WHERE p.pronamespace = 'agentdb'::regnamespace AND l.lanname = 'plpgsql'"
                "   AND c.level IN ('error', 'warning', 'warning extra')"
            )
        ).all()
        checked = conn.execute(
            text(
                "SELECT count(*) FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                " WHERE p.pronamespace = 'agentdb'::regnamespace AND l.lanname = 'plpgsql'"
            )
        ).scalar_one()
    assert checked >= 20
    assert [tuple(f) for f in findings] == []
