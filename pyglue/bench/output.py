"""The one report writer: number formats, Markdown tables, and the files written to --out."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pyglue.bench.timing import Timing


def ms(value: float) -> str:
    """Milliseconds with the precision that matters at that size."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def timing_cells(timing: Timing | None, fields: Sequence[str]) -> list[str]:
    return [ms(getattr(timing, name)) if timing else "—" for name in fields]


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
