"""Issue 12, item 9: SQLsmith's random statements against a database at head, for a bounded run.

Run as a member of agentdb_admin (every routine it may call and every table it
may write), under a statement_timeout, with a fixed seed and a fixed number of
statements. Most of SQLsmith's statements are refused by the server, as they
should be; what this test forbids is a crash, an internal error, and an error
raised inside an agentdb routine that names no parameter or column.

What it found so far: nothing that crashes or hangs; its writes to
agentdb.memory_policies are all refused by validate_memory_policy, naming the
column.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from pyglue.dburl import resolve_url
from pyglue.testing import PostgresCluster

SQLSMITH = shutil.which("sqlsmith")
QUERIES = 10000
SEED = 12
CRASH = re.compile(r"PANIC|terminated by signal|was terminated|server closed the connection")
INTERNAL = re.compile(r"cache lookup failed|unrecognized node type|unexpected|XX000")
ENTRY = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
NAMED = ("p_", "memory_policies.", "retention_policies.")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SQLSMITH is None, reason="sqlsmith is not installed (apt install sqlsmith)"),
]


@pytest.fixture
def smith_role(pg_cluster: PostgresCluster) -> Iterator[str]:
    role = f"smith_{uuid.uuid4().hex[:8]}"
    with pg_cluster.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN IN ROLE agentdb_admin").format(sql.Identifier(role))
        )
    try:
        yield role
    finally:
        with pg_cluster.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_sqlsmith_finds_no_crash_and_no_unnamed_error_in_agentdb(
    pg_cluster: PostgresCluster, head_url: str, smith_role: str
) -> None:
    assert SQLSMITH is not None
    database = resolve_url(head_url).database
    log = pg_cluster.basedir / "server.log"
    start = log.stat().st_size
    target = (
        f"host=127.0.0.1 port={pg_cluster.port} user={smith_role} dbname={database}"
        " options='-c statement_timeout=2000'"
    )
    result = subprocess.run(
        [SQLSMITH, f"--target={target}", f"--seed={SEED}", f"--max-queries={QUERIES}",
         "--exclude-catalog"],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    with log.open(encoding="utf-8", errors="replace") as handle:
        handle.seek(start)
        entries = ENTRY.split(handle.read())
    assert [e[:300] for e in entries if CRASH.search(e)] == []
    errors = [e for e in entries if "ERROR:" in e]
    assert [e[:300] for e in errors if INTERNAL.search(e.split("STATEMENT:")[0])] == []
    unnamed = []
    for index, entry in enumerate(entries[:-1]):
        following = entries[index + 1]
        if "ERROR:" in entry and "CONTEXT:" in following and "agentdb." in following:
            message = entry.split("ERROR:", 1)[1].strip()
            if not message.startswith(NAMED):
                unnamed.append(f"{message[:200]} | {following[:200]}")
    assert unnamed == []
    with psycopg.connect(pg_cluster.conninfo(str(database))) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
