"""The live tree and the frozen copies: what runs at head, and no edit that escapes a revision."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from dbcheck import schema_dump

from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.sqlfiles import (
    digest,
    frozen_files,
    install_order,
    live_files,
    read_live,
)

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
PIN = re.compile(r'"([\w/.-]+\.sql)":\s*"([0-9a-f]{12})"')
# The platform's tables and indexes existed before agentdb: revisions change
# them with ALTERs and never run these files, which only the live-tree test checks.
DECLARATIVE = ("platform/",)


def _revisions() -> dict[str, Path]:
    return {path.name.split("_", 1)[0]: path for path in sorted(VERSIONS.glob("*.py"))}


def _pins(revision_file: Path) -> set[tuple[str, str]]:
    return set(PIN.findall(revision_file.read_text()))


def _strip_alembic(dump: str) -> str:
    kept: list[str] = []
    skipping = False
    for line in dump.splitlines():
        if "alembic_version" in line and line.startswith(("CREATE TABLE", "ALTER TABLE")):
            skipping = not line.rstrip().endswith(";")
            continue
        if skipping:
            skipping = not line.rstrip().endswith(";")
            continue
        kept.append(line)
    return "\n".join(kept)


def test_install_order_lists_every_live_file_once() -> None:
    order = install_order()
    assert len(order) == len(set(order))
    assert sorted(order) == live_files()


def test_live_tree_builds_the_schema_the_migration_chain_reaches(
    empty_url: str, head_url: str
) -> None:
    with psycopg.connect(libpq_dsn(resolve_url(empty_url)), autocommit=True) as conn:
        for name in install_order():
            try:
                conn.execute(read_live(name).encode())
            except psycopg.Error as exc:
                pytest.fail(f"sql/{name} fails on a database built from the live tree: {exc}")
    assert schema_dump(empty_url) == _strip_alembic(schema_dump(head_url))


def test_every_live_file_equals_the_frozen_copy_of_its_newest_revision() -> None:
    newest: dict[str, str] = {}
    for revision in _revisions():
        for name in frozen_files(revision):
            newest[name] = revision
    for name in live_files():
        if name.startswith(DECLARATIVE):
            continue
        assert name in newest, (
            f"sql/{name} is in no revision: freeze it in a new one "
            f"(python -m pyglue.sqlfiles freeze REVISION {name})"
        )
        frozen = (VERSIONS / newest[name] / name).read_text()
        assert read_live(name) == frozen, (
            f"sql/{name} differs from its frozen copy in revision {newest[name]}: "
            "an edit without a revision; freeze it in a new revision"
        )


@pytest.mark.parametrize("revision", sorted(_revisions()))
def test_every_frozen_file_is_pinned_and_every_pin_names_a_frozen_file(revision: str) -> None:
    """A revision pins each of its own frozen files; a downgrade may re-run an older one's."""
    revisions = sorted(_revisions())
    pins = _pins(_revisions()[revision])
    own = frozen_files(revision)
    assert sorted({name for name, _ in pins if name in own}) == own
    for name, pin in pins:
        origins = [r for r in revisions[: revisions.index(revision) + 1] if name in frozen_files(r)]
        assert any(digest((VERSIONS / r / name).read_text()) == pin for r in origins), (
            f"{_revisions()[revision].name} pins {name} at {pin}: no frozen copy has that digest"
        )
    for name in own:
        assert (name, digest((VERSIONS / revision / name).read_text())) in pins, (
            f"migrations/versions/{revision}/{name} changed after its revision pinned it"
        )
