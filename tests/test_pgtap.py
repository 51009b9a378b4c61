"""Run every pgTAP file in tests/<capability>/sql/ in its own fresh database at head: one test each.

Each file is run by psql against a clone of the migrated template, after
`CREATE EXTENSION pgtap`; the test passes when the TAP plan is declared, every
test line is `ok` and their number matches the plan. Files may use
transactions or not (a file that CALLs a procedure that COMMITs cannot wrap
itself in BEGIN/ROLLBACK): the database is thrown away afterwards.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pyglue.dburl import libpq_dsn

FILES = sorted(Path(__file__).parent.glob("*/sql/*.sql"))
PLAN = re.compile(r"^1\.\.(\d+)$")
RESULT = re.compile(r"^(not ok|ok) (\d+)\b")


def _psql() -> str:
    found = shutil.which("psql") or "/usr/bin/psql"
    if not Path(found).exists():
        pytest.skip("psql is not installed")
    return found


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.parent.name}/{p.stem}" for p in FILES])
def test_pgtap_file(path: Path, head_url: str) -> None:
    dsn = libpq_dsn(make_url(head_url))
    setup = subprocess.run(
        [_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn,
         "-c", "CREATE EXTENSION IF NOT EXISTS pgtap"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    run = subprocess.run(
        [_psql(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
         "-P", "pager=off", "-d", dsn, "-f", str(path)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"psql failed on {path.name}:\n{output}"
    lines = [line.strip() for line in run.stdout.splitlines()]
    plans = [int(m.group(1)) for line in lines if (m := PLAN.match(line))]
    results = [(m.group(1), int(m.group(2))) for line in lines if (m := RESULT.match(line))]
    failed = [line for line in lines if line.startswith("not ok")]
    assert plans, f"{path.name} declared no plan:\n{output}"
    assert not failed, f"{path.name}: failing tests:\n{output}"
    assert len(results) == plans[0], (
        f"{path.name}: planned {plans[0]} tests, ran {len(results)}:\n{output}"
    )
    assert [n for _, n in results] == list(range(1, plans[0] + 1)), output
