"""The product never imports the benchmark: pyglue.bench loads only when `pyglue bench` runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyglue

PACKAGE = Path(pyglue.__file__).parent


def product_modules() -> list[str]:
    """Every module of pyglue outside pyglue/bench (sql/ and migrations/ are links, not code)."""
    files = [p for p in PACKAGE.rglob("*.py") if p.parent.is_relative_to(PACKAGE)]
    names = []
    for path in sorted(files):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1] in ("bench", "sql", "migrations"):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_product_modules_and_the_cli_parser_never_import_pyglue_bench() -> None:
    modules = product_modules()
    assert "pyglue.cli" in modules
    assert "pyglue.monitoring.instrument" in modules
    script = "\n".join(
        [
            "import importlib, sys",
            *(f"importlib.import_module({name!r})" for name in modules),
            "from pyglue import cli",
            "cli.build_parser().parse_args(['bench', 'loadtest', '--users', '3'])",
            "print(sorted(m for m in sys.modules if m.startswith('pyglue.bench')))",
        ]
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
