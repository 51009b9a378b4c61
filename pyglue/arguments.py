"""Checks of the wrappers' arguments, before anything reaches the server.

Each raises `InvalidArgument` naming the parameter. Ranges the SQL routine
checks itself (days, batch sizes) are left to it, so that a limit lives in
one place; here only what the server could not say clearly: the type, a bool
passed as a number, a number too large for an `integer` parameter (it would be
sent as bigint and the routine would not be found), a datetime where a date
is expected (it would be truncated silently), a malformed id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypeVar

from pyglue.errors import InvalidArgument

INT4_MIN = -(2**31)
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1

_Choice = TypeVar("_Choice")


def refuse(parameter: str, expected: str, value: object) -> InvalidArgument:
    """The error for `value` given as `parameter`, which must be `expected`."""
    return InvalidArgument(f"{parameter} must be {expected}, not {value!r}", parameter=parameter)


def _integer_range(minimum: int, maximum: int) -> str:
    if minimum == 1 and maximum in (INT4_MAX, INT8_MAX):
        return "a positive integer"
    if (minimum, maximum) == (INT4_MIN, INT4_MAX):
        return "a 32-bit integer"
    return f"an integer between {minimum} and {maximum}"


def integer(
    parameter: str,
    value: object,
    *,
    minimum: int = INT4_MIN,
    maximum: int = INT4_MAX,
    expected: str | None = None,
) -> int:
    """`value` if it is an int (not a bool) within minimum..maximum (an SQL integer by default)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise refuse(parameter, expected or _integer_range(minimum, maximum), value)
    return value


def optional_integer(
    parameter: str, value: object, *, minimum: int = INT4_MIN, maximum: int = INT4_MAX
) -> int | None:
    if value is None:
        return None
    expected = f"{_integer_range(minimum, maximum)} or None"
    return integer(parameter, value, minimum=minimum, maximum=maximum, expected=expected)


def flag(parameter: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise refuse(parameter, "True or False", value)
    return value


def day(parameter: str, value: object) -> date:
    """A datetime.date; a datetime is refused rather than cut to its date in the session's zone."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise refuse(parameter, "a datetime.date (not a datetime)", value)
    return value


def optional_day(parameter: str, value: object) -> date | None:
    return None if value is None else day(parameter, value)


def identifier(parameter: str, value: object) -> uuid.UUID:
    """A uuid.UUID, or its string form."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise refuse(parameter, "a UUID (uuid.UUID or its string form)", value)


def optional_identifier(parameter: str, value: object) -> uuid.UUID | None:
    return None if value is None else identifier(parameter, value)


def optional_text(parameter: str, value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise refuse(parameter, "a string or None", value)
    return value


def choice(parameter: str, value: object, allowed: Iterable[_Choice]) -> _Choice:
    """`value` if it is one of `allowed`."""
    options = list(allowed)
    for option in options:
        if value == option and type(value) is type(option):
            return option
    raise refuse(parameter, f"one of {', '.join(map(str, options))}", value)
