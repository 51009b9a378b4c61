"""One path from Python to an agentdb routine, and the one table of what its failures mean.

`call` runs a statement with any sync bind, `call_async` with any async one.
Given an Engine it opens its own connection and transaction (committed when
asked); given a Connection or Session it runs in the caller's transaction and
never commits. `call_procedure` CALLs a procedure that COMMITs between
batches, on an autocommit connection of its own. A failure in the database is
raised as a pyglue error (`translate`), never as the driver's: its message is
the server's first line after the routine's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from pyglue.errors import (
    DatabaseError,
    DatabaseUnreachable,
    InvalidArgument,
    LockTimeout,
    NotInstalled,
    OutsideTransactionRequired,
    PermissionDenied,
    PyglueError,
    QueryCanceled,
    ReadOnlyDatabase,
)

ADMIN_ROLE = "agentdb_admin"
APP_ROLE = "agentdb_app"

SyncBind = Engine | Connection | Session
AsyncBind = AsyncEngine | AsyncConnection | AsyncSession
Params = Mapping[str, Any] | None

NOT_INSTALLED = (
    "agentdb is not installed in this database, or is at an older revision: run pyglue install"
)
# agentdb's routines name their parameters p_* and start a refusal with the parameter
_LEADING_PARAMETER = re.compile(r"p_\w+")


@dataclass(frozen=True)
class ServerMessage:
    """What the server (or, without an answer from it, the driver) said about one failure."""

    sqlstate: str | None
    line: str
    column: str | None
    constraint: str | None
    routine: str | None
    role: str | None

    @property
    def message(self) -> str:
        return f"{self.routine}: {self.line}" if self.routine else self.line

    @property
    def parameter(self) -> str | None:
        """The parameter or column the server named: its diagnostics, else its message."""
        if self.column:
            return self.column
        leading = _LEADING_PARAMETER.match(self.line)
        return leading.group(0) if leading else self.constraint


Translation = Callable[[ServerMessage], PyglueError]


def _invalid_argument(said: ServerMessage) -> PyglueError:
    # Unprefixed: it reads the same whether a wrapper or the routine refused the argument.
    return InvalidArgument(
        said.line, parameter=said.parameter, sqlstate=said.sqlstate, routine=said.routine
    )


def _permission_denied(said: ServerMessage) -> PyglueError:
    return PermissionDenied(
        said.message, role_needed=said.role, sqlstate=said.sqlstate, routine=said.routine
    )


def _unreachable(said: ServerMessage) -> PyglueError:
    prefix = f"{said.routine}: " if said.routine else ""
    return DatabaseUnreachable(
        f"{prefix}cannot reach the database: {said.line}",
        sqlstate=said.sqlstate,
        routine=said.routine,
    )


def _explained(kind: type[DatabaseError], hint: str | None = None) -> Translation:
    def build(said: ServerMessage) -> PyglueError:
        message = f"{said.message} ({hint})" if hint else said.message
        return kind(message, sqlstate=said.sqlstate, routine=said.routine)

    return build


# SQLSTATE (or its two-character class) -> the pyglue error; anything else: DatabaseError.
SQLSTATES: dict[str, Translation] = {
    "22023": _invalid_argument,  # invalid_parameter_value
    "23514": _invalid_argument,  # check_violation
    "42501": _permission_denied,  # insufficient_privilege
    "2D000": _explained(  # invalid_transaction_termination
        OutsideTransactionRequired,
        "it COMMITs: CALL it outside a transaction block, on an autocommit connection",
    ),
    "55P03": _explained(  # lock_not_available
        LockTimeout, "another transaction holds a lock it needs: try again later"
    ),
    "57014": _explained(QueryCanceled),  # query_canceled: the server's line says which
    "25006": _explained(  # read_only_sql_transaction
        ReadOnlyDatabase, "the bind points at a standby or a read-only transaction: use the primary"
    ),
    "42883": _explained(NotInstalled, NOT_INSTALLED),  # undefined_function
    "3F000": _explained(NotInstalled, NOT_INSTALLED),  # invalid_schema_name
    "42P01": _explained(NotInstalled, NOT_INSTALLED),  # undefined_table
    "08": _unreachable,  # connection_exception, the whole class
}
CONNECTION_FAILURE = "08"


def _first_line(exc: DBAPIError) -> str:
    original: BaseException = exc.orig if exc.orig is not None else exc
    primary = getattr(getattr(original, "diag", None), "message_primary", None)
    lines = str(primary or original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def server_message(exc: DBAPIError, *, routine: str | None, role: str | None) -> ServerMessage:
    """What the server said in `exc`, the failure of `routine` (callable by `role`)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    diag = getattr(exc.orig, "diag", None)
    return ServerMessage(
        sqlstate=sqlstate if isinstance(sqlstate, str) else None,
        line=_first_line(exc),
        column=getattr(diag, "column_name", None),
        constraint=getattr(diag, "constraint_name", None),
        routine=routine,
        role=role,
    )


def translate(
    exc: DBAPIError, *, routine: str | None = None, role: str | None = None
) -> PyglueError:
    """The pyglue error for a failed statement (of `routine`, granted to `role`)."""
    said = server_message(exc, routine=routine, role=role)
    if said.sqlstate is None:
        # no SQLSTATE: the driver never got an answer (refused, lost, timed out)
        if isinstance(exc, OperationalError):
            return SQLSTATES[CONNECTION_FAILURE](said)
        return DatabaseError(said.message, sqlstate=None, routine=routine)
    found = SQLSTATES.get(said.sqlstate) or SQLSTATES.get(said.sqlstate[:2])
    if found is None:
        return DatabaseError(said.message, sqlstate=said.sqlstate, routine=routine)
    return found(said)


@contextmanager
def translated(*, routine: str, role: str | None) -> Iterator[None]:
    """Raise a failure of the statements run inside as the pyglue error `translate` gives."""
    try:
        yield
    except DBAPIError as exc:
        raise translate(exc, routine=routine, role=role) from exc


def _wrong_bind(bind: object, expected: str) -> TypeError:
    return TypeError(f"bind must be a SQLAlchemy {expected}, not {type(bind).__name__}")


def call(
    bind: SyncBind,
    sql: str,
    params: Params = None,
    *,
    routine: str,
    role: str | None,
    commit: bool = False,
) -> Sequence[Row[Any]]:
    """Run `sql`, a statement over `routine`, and return its rows.

    `role` is the role that grants `routine`, named by PermissionDenied (None:
    not agentdb's to grant). `commit` applies to an Engine's own transaction
    only: with a Connection or Session the caller commits.
    """
    if not isinstance(bind, Engine | Connection | Session):
        raise _wrong_bind(bind, "Engine, Connection or Session")
    statement, values = text(sql), dict(params or {})
    with translated(routine=routine, role=role):
        if isinstance(bind, Engine):
            with bind.connect() as connection:
                rows = connection.execute(statement, values).all()
                if commit:
                    connection.commit()
                return rows
        return bind.execute(statement, values).all()


async def call_async(
    bind: AsyncBind,
    sql: str,
    params: Params = None,
    *,
    routine: str,
    role: str | None,
    commit: bool = False,
) -> Sequence[Row[Any]]:
    """`call` for an AsyncEngine, AsyncConnection or AsyncSession."""
    if not isinstance(bind, AsyncEngine | AsyncConnection | AsyncSession):
        raise _wrong_bind(bind, "AsyncEngine, AsyncConnection or AsyncSession")
    statement, values = text(sql), dict(params or {})
    with translated(routine=routine, role=role):
        if isinstance(bind, AsyncEngine):
            async with bind.connect() as connection:
                rows = (await connection.execute(statement, values)).all()
                if commit:
                    await connection.commit()
                return rows
        return (await bind.execute(statement, values)).all()


def call_procedure(
    engine: Engine, sql: str, params: Params = None, *, routine: str, role: str | None
) -> Sequence[Row[Any]]:
    """CALL a procedure that COMMITs itself, on an autocommit connection; its OUT row, if any."""
    if not isinstance(engine, Engine):
        raise _wrong_bind(engine, "Engine (the procedure needs a connection of its own)")
    with translated(routine=routine, role=role), engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            result = connection.execute(text(sql), dict(params or {}))
            return result.all() if result.returns_rows else []
        except DBAPIError:
            # a procedure failing between its COMMITs may leave session state behind (the
            # memory maintenance holds a session-level advisory lock): never pool it again
            connection.invalidate()
            raise
