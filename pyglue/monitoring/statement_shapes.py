"""Statement shapes: SQL text with literals, parameters and IN-lists collapsed.

Two executions have the same shape when they differ only in the values they
carry. SQLAlchemy's compiled statements are already parameterized, so the
work is mostly whitespace; literals inlined by hand (text()) and IN-lists of
varying length would otherwise make one shape per value.
"""

from __future__ import annotations

import contextlib
import re

MAX_CACHED = 4096

_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*", re.DOTALL)
_STRING = re.compile(r"(?:\b[EeBbXxUu]&?)?'(?:[^']|'')*'")
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\$\d+|(?<![:\w]):\w+")
_NUMBER = re.compile(r"(?<![\w.?])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_WHITESPACE = re.compile(r"\s+")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_VALUES = re.compile(r"(VALUES\s*\([^()]*\))(?:\s*,\s*\([^()]*\))+", re.IGNORECASE)
_ARRAY = re.compile(r"ARRAY\s*\[\s*\?(?:\s*,\s*\?)*\s*\]", re.IGNORECASE)


def normalize(statement: str) -> str:
    """The shape of `statement`: one line, values as `?`, lists of values as `(...)`."""
    shape = _COMMENT.sub(" ", statement)
    shape = _STRING.sub("?", shape)
    shape = _PLACEHOLDER.sub("?", shape)
    shape = _NUMBER.sub("?", shape)
    shape = _WHITESPACE.sub(" ", shape).strip().rstrip(";").rstrip()
    shape = _LIST.sub("(...)", shape)
    shape = _ARRAY.sub("ARRAY[...]", shape)
    # executemany-style multi-row VALUES: keep the first row only
    return _VALUES.sub(r"\1, ...", shape)


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ShapeCache:
    """Statement text -> shape, memoized: SQLAlchemy hands back the same strings."""

    def __init__(self, max_entries: int = MAX_CACHED) -> None:
        self.cache: dict[str, str] = {}
        self._max = max_entries

    def __call__(self, statement: str) -> str:
        shape = self.cache.get(statement)
        if shape is None:
            shape = normalize(statement)
            if len(self.cache) >= self._max:
                # oldest insertion first: dicts keep insertion order; another thread
                # may evict the same entry at the same moment, which is fine
                with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                    del self.cache[next(iter(self.cache))]
            self.cache[statement] = shape
        return shape
