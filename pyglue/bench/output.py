"""The one report writer: number formats, Markdown tables, the files written to --out; and
the benchmarks' SQL, kept in queries.sql and loaded by name (procrastinate's way)."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pyglue.bench.timing import Timing


@functools.cache
def _queries() -> dict[str, str]:
    text = resources.files("pyglue.bench").joinpath("queries.sql").read_text(encoding="utf-8")
    _, *parts = re.split(r"^-- name: (\w+)\n", text, flags=re.MULTILINE)
    # the comments stay in the file: a drivers' parser would take a quote or a :name in them for SQL
    code = [[ln for ln in body.splitlines() if not ln.startswith("--")] for body in parts[1::2]]
    return {name: "\n".join(lines).strip() for name, lines in zip(parts[::2], code, strict=True)}


def sql(name: str) -> str:
    """The statement headed `-- name: <name>` in queries.sql."""
    return _queries()[name]


def ms(value: float) -> str:
    """Milliseconds with the precision that matters at that size."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def timing_cells(timing: Timing | None, fields: Sequence[str]) -> list[str]:
    return [ms(getattr(timing, name)) if timing else "—" for name in fields]


def latencies(values: Sequence[float | None] | None, errors: int = 0, sep: str = " / ") -> str:
    """A load test's p50/p95/p99 cell (— where nothing completed), with its errors."""
    cells = sep.join("—" if v is None else ms(v) for v in values or [None])
    return cells + (f" ({errors} err)" if errors else "")


def first_errors(samples: Iterable[str], most: int) -> list[str]:
    """The report's closing list of the first errors, nothing when there were none."""
    listed = [f"- {s}" for s in samples][:most]
    return ["", "First errors:", *listed] if listed else []


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def jsonable(value: Any) -> Any:
    """Dataclasses, dicts and lists as JSON values; infinities as null, the rest as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def write(out: Path | None, files: dict[str, Any]) -> list[Path]:
    """Write each file into `out` (text as is, anything else as JSON); nothing without `out`."""
    if out is None:
        return []
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(jsonable(content), indent=2)
        (out / name).write_text(text if isinstance(content, str) else text + "\n")
    return [out / name for name in files]
