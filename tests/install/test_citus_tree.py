"""sql/citus/: outside the revision chain, in step with the live tree."""

from __future__ import annotations

import re

from pyglue import install
from pyglue.sqlfiles import citus_files, install_order, live_files, read_live

ROUTINE = re.compile(r"CREATE OR REPLACE (FUNCTION|PROCEDURE) (agentdb\.\w+)\(([^)]*)\)")
# routines only the conversion has: the stand-ins for the foreign key actions Citus refuses
CITUS_ONLY = {"agentdb.set_null_on_delete", "agentdb.cascade_key_update"}


def _argument_types(arguments: str) -> list[str]:
    """`p_from date, p_to date DEFAULT ...` -> ['date', 'date'] (names and defaults dropped)."""
    types = []
    for argument in filter(None, (a.strip() for a in arguments.split(","))):
        words = argument.split(" DEFAULT ")[0].split()
        types.append(" ".join(words[1:]) if words[0] not in ("INOUT", "OUT") else words[2])
    return types


def _single_node_routines() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in live_files():
        for match in re.finditer(
            r"CREATE (?:OR REPLACE )?(?:FUNCTION|PROCEDURE) (agentdb\.\w+)\(([^)]*)\)",
            read_live(name),
        ):
            found[match.group(1)] = _argument_types(match.group(2))
    return found


def test_the_conversion_is_no_live_file_and_runs_every_citus_file() -> None:
    assert citus_files()
    assert not set(citus_files()) & set(live_files())
    assert not any(name.startswith("citus/") for name in install_order())
    steps = [*install.CITUS_STEPS, *install.CITUS_AFTER_ROUTINES]
    routines = [name for name in citus_files() if name.startswith("citus/routines/")]
    assert sorted(steps + routines) == citus_files()


def test_each_citus_variant_replaces_a_routine_of_the_same_signature() -> None:
    single_node = _single_node_routines()
    for name in citus_files():
        if not name.startswith("citus/routines/"):
            continue
        text = read_live(name)
        (match,) = ROUTINE.findall(text)  # one routine per file
        _, routine, arguments = match
        assert f"COMMENT ON {match[0]} {routine}(" in text, f"{name}: no COMMENT ON"
        assert "SET search_path = pg_catalog, pg_temp" in text, f"{name}: search_path not pinned"
        if routine in CITUS_ONLY:
            assert routine not in single_node
            continue
        assert routine in single_node, f"{name}: {routine} has no single-node definition"
        assert _argument_types(arguments) == single_node[routine], name
