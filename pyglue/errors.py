"""Exceptions raised by pyglue; each message names what to fix."""


class PyglueError(Exception):
    """Base class of every pyglue error."""


class ConfigurationError(PyglueError):
    """Bad input from the user: a missing URL, an unknown revision, an old server."""


class PostgresNotFound(PyglueError):
    """The PostgreSQL server binaries are not installed."""


class SqlFileChanged(PyglueError):
    """A released SQL file no longer matches the digest its migration pinned."""


class PermissionDenied(PyglueError):
    """The database role lacks the privilege a routine needs (SQLSTATE 42501)."""

    def __init__(self, message: str, *, role_needed: str) -> None:
        super().__init__(f"{message} (grant the role {role_needed} to this user)")
        self.role_needed = role_needed
