"""The CLI's one error path: what the server said, in one line, exit 2."""

from __future__ import annotations

import psycopg
import pytest

from pyglue import cli
from pyglue.dburl import libpq_dsn, resolve_url


def test_a_server_error_outside_the_wrappers_says_what_the_server_said(
    empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = libpq_dsn(resolve_url(empty_url))
    with psycopg.connect(dsn, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        assert name is not None
        conn.execute(f'ALTER DATABASE "{name[0]}" SET default_transaction_read_only = on')
    assert cli.main(["install", "--database-url", empty_url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyglue: cannot execute CREATE TABLE in a read-only transaction")
    assert err.endswith(
        "(the bind points at a standby or a read-only transaction: use the primary)\n"
    )


def test_an_operational_error_is_not_called_unreachable(
    head_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # psycopg raises a lock timeout as an OperationalError: the server answered, though
    with psycopg.connect(libpq_dsn(resolve_url(head_url))) as holder:
        holder.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        url = f"{head_url}?options=-c%20lock_timeout%3D100ms"
        assert cli.main(["status", "--database-url", url]) == 2
    assert capsys.readouterr().err == (
        "pyglue: canceling statement due to lock timeout"
        " (another transaction holds a lock it needs: try again later)\n"
    )
