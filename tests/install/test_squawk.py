"""What the migrations run (their frozen SQL) passes the squawk linter, but for listed exceptions.

Each exception names the rule and why it does not apply here.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pyglue.migration_ops import INDEX_LOCK_TIMEOUT, SCRIPT_PROLOGUE
from pyglue.sqlfiles import frozen_files

REPO = Path(__file__).resolve().parents[2]
SQUAWK = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")

EVERYWHERE = {
    # Migrations also rewrite tables (json -> jsonb) and backfill rollups;
    # a statement_timeout would abort them half-way on a large database.
    # lock_timeout, set before every script, is what protects the app.
    "require-statement-timeout": "long rewrites and backfills must not be cut short",
    # Each file runs once inside its revision's transaction; Alembic records the
    # revision atomically, so a failed run leaves nothing to re-run around.
    "prefer-robust-stmts": "every file runs once, inside its revision's transaction",
}
BASELINE_ONLY = {
    # The baseline is the platform's schema as it already runs in production:
    # its types are facts to adopt, and it only ever creates empty tables.
    "prefer-text-field": "the platform's existing varchar columns",
    "prefer-bigint-over-int": "the platform's existing integer columns",
    "prefer-timestamp-tz": "the platform stores UTC in timestamp without time zone (DESIGN.md)",
    "require-concurrent-index-creation": "indexes on new, empty tables",
}


def _migration(name: str) -> ModuleType:
    path = next((REPO / "migrations" / "versions").glob(f"{name}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lint(directory: Path, *, excluded: dict[str, str], in_transaction: bool) -> str:
    args = [SQUAWK, "--reporter", "gcc", "--pg-version", "15.0", "--exclude", ",".join(excluded)]
    if in_transaction:
        args.append("--assume-in-transaction")
    result = subprocess.run(
        [*args, *sorted(str(p) for p in directory.glob("*.sql"))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.stdout + result.stderr


ROLLUP_TABLES = {
    # The rollups sit beside the platform's tables and follow its conventions.
    "prefer-timestamp-tz": "the platform stores UTC in timestamp without time zone (DESIGN.md)",
    "prefer-bigint-over-int": "min/max of the platform's integer duration_ms fit its type",
}
DELTA_TABLES = {
    # One run's change: counts of -1..1 and one of the platform's integer durations.
    "prefer-bigint-over-int": "a delta holds one run's change, never a sum",
}
DOWNGRADES = {
    # Going down a revision removes what it created: that is the point.
    "ban-drop-table": "a downgrade drops the tables its revision created",
    "ban-drop-schema": "0004's downgrade drops the schema it created",
    "ban-drop-function": "a downgrade drops the routines its revision created",
}
RETURN_TYPE_CHANGE = {
    # A function's result type changes only by DROP and CREATE: the files the
    # revision runs next create both again, in the same transaction.
    "ban-drop-function": "cleanup_expired_memories and preview_memory_cleanup gain a column",
}
SIGNATURE_CHANGE = {
    # The same for a new parameter (0021: cleanup_expired_memories' p_resume).
    "ban-drop-function": "cleanup_expired_memories gains a parameter and a column",
}
POLICY_TABLES = {
    # premake is a number of months ahead, 1 to 24 (a CHECK says so).
    "prefer-bigint-over-int": "retention_policies.premake counts months, 1 to 24",
}
PARTITIONED_TABLES = {
    # 0016 creates the platform's three history tables again, partitioned and
    # empty, beside the ones they replace: the same column types as the
    # baseline, and indexes on tables nobody writes to yet.
    **BASELINE_ONLY,
}
UNPARTITIONING = {
    # 0016's downgrade rebuilds the plain tables, copies every row, drops the
    # partitioned ones: offline, under one ACCESS EXCLUSIVE lock (its docstring).
    **BASELINE_ONLY,
    **DOWNGRADES,
    "ban-drop-column": "the column 0016 added to retention_policies",
    "ban-set-schema": "the rebuilt tables move from a staging schema to the names clients use",
}
FILE_EXCEPTIONS = {
    "0001/baseline.sql": BASELINE_ONLY,
    "0007/stats/rollup_tables.sql": ROLLUP_TABLES,
    "0010/stats/stats_deltas.sql": DELTA_TABLES,
    "0011/memory_return_types.sql": RETURN_TYPE_CHANGE,
    "0013/partitions/retention_policies.sql": POLICY_TABLES,
    "0016/partitions/execution_tables.sql": PARTITIONED_TABLES,
    "0016/partitions/retention_policies.sql": POLICY_TABLES,
    "0016/downgrade.sql": UNPARTITIONING,
    # 0020 declares the live definition of the tables it ALTERs (never run)
    "0020/partitions/execution_tables.sql": PARTITIONED_TABLES,
    "0020/downgrade.sql": {
        **DOWNGRADES,
        "ban-drop-column": "the user_id columns 0020 added, a copy of the parents'",
    },
    "0021/memory_signature.sql": SIGNATURE_CHANGE,
}


def test_frozen_files_as_migrations_run_them(tmp_path: Path) -> None:
    versions = REPO / "migrations" / "versions"
    for revision in sorted(p.name for p in versions.iterdir() if p.is_dir() and p.name.isdigit()):
        for name in frozen_files(revision):
            path = f"{revision}/{name}"
            flat = path.replace("/", "__")
            group = "downgrades" if name == "downgrade.sql" else "routines"
            target = tmp_path / (flat if path in FILE_EXCEPTIONS else group)
            target.mkdir(exist_ok=True)
            (target / flat).write_text(SCRIPT_PROLOGUE + (versions / path).read_text())
    assert _lint(tmp_path / "routines", excluded=EVERYWHERE, in_transaction=True) == ""
    downgrades = EVERYWHERE | DOWNGRADES
    assert _lint(tmp_path / "downgrades", excluded=downgrades, in_transaction=True) == ""
    for path, exceptions in FILE_EXCEPTIONS.items():
        folder = tmp_path / path.replace("/", "__")
        assert _lint(folder, excluded=EVERYWHERE | exceptions, in_transaction=True) == "", path


def test_index_builds_and_json_conversion(tmp_path: Path) -> None:
    indexes = _migration("0002")
    prologue = f"SET lock_timeout = '{INDEX_LOCK_TIMEOUT}';\n"
    (tmp_path / "0002_upgrade.sql").write_text(
        prologue
        + "".join(f'CREATE INDEX CONCURRENTLY "{n}" {d};\n' for n, d in indexes.NEW_INDEXES.items())
        + "".join(f'DROP INDEX CONCURRENTLY IF EXISTS "{n}";\n' for n in indexes.SUPERSEDED_INDEXES)
    )
    assert _lint(tmp_path, excluded=EVERYWHERE, in_transaction=False) == ""


@pytest.mark.parametrize("target", ["jsonb", "json"])
def test_json_conversion(tmp_path: Path, target: str) -> None:
    statements = _migration("0003").conversion_statements(target)
    (tmp_path / "0003.sql").write_text(";\n".join(statements) + ";\n")
    conversion = {
        # json -> jsonb is the point of the revision: each table is rewritten
        # once, under lock_timeout (see the revision's docstring)
        "changing-column-type": "the conversion itself",
        # the default is dropped and set again, to the same value in the new
        # type, in the same ALTER TABLE: clients never see it missing
        "ban-drop-default": "re-set in the same statement",
    }
    assert _lint(tmp_path, excluded=EVERYWHERE | conversion, in_transaction=True) == ""
