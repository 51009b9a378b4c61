"""Exceptions raised by pyglue; each message names what to fix.

Errors from the database are translated in one place (`pyglue.routines`):
a wrapper never lets a raw driver error through.
"""

from __future__ import annotations


class PyglueError(Exception):
    """Base class of every pyglue error."""


class ConfigurationError(PyglueError):
    """Bad input from the user: a missing URL, an unknown revision, an old server."""


class InvalidArgument(ConfigurationError, ValueError):
    """A refused argument or column, named by `.parameter` (None when nothing names one).

    Raised by a wrapper before anything reaches the server (`.sqlstate` None), or
    from the server's 22023/23514 (its parameter or column). A ValueError as well,
    so code that caught either keeps working.
    """

    def __init__(
        self,
        message: str,
        *,
        parameter: str | None,
        sqlstate: str | None = None,
        routine: str | None = None,
    ) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.sqlstate = sqlstate
        self.routine = routine


class PostgresNotFound(PyglueError):
    """The PostgreSQL server binaries are not installed."""


class SqlFileChanged(PyglueError):
    """A released SQL file no longer matches the digest its migration pinned."""


class DatabaseError(PyglueError):
    """The database failed a statement: `.sqlstate` (None: no server answer) and its first line."""

    def __init__(self, message: str, *, sqlstate: str | None, routine: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.routine = routine


class PermissionDenied(DatabaseError):
    """The database role lacks a privilege (SQLSTATE 42501); `.role_needed` grants it, if known."""

    def __init__(
        self,
        message: str,
        *,
        role_needed: str | None,
        sqlstate: str | None = "42501",
        routine: str | None = None,
    ) -> None:
        if role_needed:
            message = f"{message} (grant the role {role_needed} to this user)"
        super().__init__(message, sqlstate=sqlstate, routine=routine)
        self.role_needed = role_needed


class OutsideTransactionRequired(DatabaseError):
    """A procedure that COMMITs was CALLed inside a transaction block (SQLSTATE 2D000)."""


class LockTimeout(DatabaseError):
    """A lock was not granted within lock_timeout, or NOWAIT found it taken (SQLSTATE 55P03)."""


class QueryCanceled(DatabaseError):
    """statement_timeout or a cancel request stopped the statement (SQLSTATE 57014)."""


class ReadOnlyDatabase(DatabaseError):
    """A write on a read-only transaction, as on a standby (SQLSTATE 25006)."""


class NotInstalled(DatabaseError):
    """agentdb's schema, function or table is missing: not installed, or an older revision."""


class DatabaseUnreachable(DatabaseError):
    """No connection to the server, or it was lost (SQLSTATE class 08)."""
