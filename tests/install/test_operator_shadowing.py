"""Issue 12, security 1: an app role that can CREATE in public cannot become superuser.

The attack: before a superuser runs `pyglue install`, the app role plants
`public.=(varchar, varchar)`, an exact match for `varchar_column = 'literal'`
that wins over `pg_catalog.=(text, text)` wherever public is on the search
path. Were any index predicate, check constraint or default bound to it,
the planted function would run as whoever writes the table: the installer,
and agentdb's SECURITY DEFINER routines on every maintenance run.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine

from pyglue import install
from pyglue.dburl import libpq_dsn, resolve_url
from pyglue.testing import PostgresCluster

# Every dependency of an index, a column default or a check constraint, in the
# schemas agentdb installs into, on an operator or function outside pg_catalog.
FOREIGN_DEPENDENCIES = """
SELECT CASE d.classid
           WHEN 'pg_class'::regclass THEN 'index ' || d.objid::regclass::text
           WHEN 'pg_attrdef'::regclass THEN 'default of ' || (
               SELECT a.adrelid::regclass || '.' || a.adnum FROM pg_attrdef a WHERE a.oid = d.objid)
           ELSE 'constraint ' || (SELECT c.conname FROM pg_constraint c WHERE c.oid = d.objid)
       END AS object,
       CASE d.refclassid
           WHEN 'pg_operator'::regclass THEN d.refobjid::regoperator::text
           ELSE d.refobjid::regprocedure::text
       END AS uses
FROM pg_depend d
WHERE d.classid IN ('pg_class'::regclass, 'pg_attrdef'::regclass, 'pg_constraint'::regclass)
  AND d.refclassid IN ('pg_operator'::regclass, 'pg_proc'::regclass)
  AND CASE d.refclassid
          WHEN 'pg_operator'::regclass
              THEN (SELECT o.oprnamespace FROM pg_operator o WHERE o.oid = d.refobjid)
          ELSE (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = d.refobjid)
      END <> 'pg_catalog'::regnamespace
ORDER BY 1, 2
"""

# Every index definition, default and check constraint deparsed under a search
# path of pg_catalog only: an operator or function from elsewhere is printed
# with its schema (OPERATOR(public.=), public.f(...)).
DEPARSED = """
SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace IN ('public'::regnamespace, 'agentdb'::regnamespace)
UNION ALL
SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
    JOIN pg_class c ON c.oid = d.adrelid
    WHERE c.relnamespace IN ('public'::regnamespace, 'agentdb'::regnamespace)
UNION ALL
SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
    WHERE k.contype = 'c' AND k.connamespace IN ('public'::regnamespace, 'agentdb'::regnamespace)
"""

PLANT = """
CREATE FUNCTION public.escalate() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', {attacker});
    END IF;
    RETURN true;
END $$;
CREATE FUNCTION public.shadow_eq(varchar, varchar) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM public.escalate();
    RETURN $1::text OPERATOR(pg_catalog.=) $2::text;
END $$;
CREATE OPERATOR public.= (
    LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.shadow_eq,
    COMMUTATOR = OPERATOR(public.=)
);
"""


def foreign_dependencies(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return conn.execute(FOREIGN_DEPENDENCIES).fetchall()


def qualified_names_outside_pg_catalog(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    conn.execute("SET search_path = pg_catalog, pg_temp")
    try:
        definitions = [str(row[0]) for row in conn.execute(DEPARSED)]
    finally:
        conn.execute("RESET search_path")
    return [d for d in definitions if "OPERATOR(" in d or "public.escalate" in d]


@pytest.fixture
def attacker(pg_cluster: PostgresCluster, empty_url: str) -> Iterator[tuple[str, str]]:
    """A login role that can CREATE in public and has planted public.= there."""
    role = f"app_{uuid.uuid4().hex[:8]}"
    dbname = resolve_url(empty_url).database
    assert dbname is not None
    with pg_cluster.connect(dbname) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
    with psycopg.connect(pg_cluster.conninfo(dbname), user=role, autocommit=True) as conn:
        conn.execute(PLANT.replace("{attacker}", sql.Literal(role).as_string(conn)).encode())
    try:
        yield role, empty_url
    finally:
        pg_cluster.drop_database(dbname)
        with pg_cluster.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def is_superuser(conn: psycopg.Connection[tuple[object, ...]], role: str) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    assert row is not None
    return bool(row[0])


def test_install_refuses_a_search_path_where_another_role_can_create(
    attacker: tuple[str, str],
) -> None:
    role, url = attacker
    result = subprocess.run(
        [sys.executable, "-m", "pyglue.cli", "install", "--database-url", url],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"pyglue: role {role} can CREATE in schema public, which is on the installer's "
        "search_path: what it creates there could run as the installer; revoke that "
        f"(REVOKE CREATE ON SCHEMA public FROM {role}) or pass --allow-untrusted-schema\n"
    )
    with psycopg.connect(libpq_dsn(resolve_url(url))) as conn:
        assert conn.execute("SELECT to_regclass('public.alembic_version')").fetchone() == (None,)


def test_planted_operator_binds_nowhere_and_never_runs_as_superuser(
    attacker: tuple[str, str],
) -> None:
    role, url = attacker
    result = subprocess.run(
        [sys.executable, "-m", "pyglue.cli", "install", "--allow-untrusted-schema",
         "--database-url", url],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with psycopg.connect(libpq_dsn(resolve_url(url)), autocommit=True) as conn:
        assert not is_superuser(conn, role)
        assert foreign_dependencies(conn) == []
        assert qualified_names_outside_pg_catalog(conn) == []
        # the platform's writes and a maintenance run, as the superuser, with
        # public (and its planted operator) on the search path
        user_id, agent_id = uuid.uuid4(), uuid.uuid4()
        conn.execute("INSERT INTO users (id, email) VALUES (%s, 'a@example.com')", [user_id])
        conn.execute(
            "INSERT INTO agents (id, user_id, name) VALUES (%s, %s, 'a')", [agent_id, user_id]
        )
        conn.execute(
            "INSERT INTO agent_memories (agent_id, session_id, type, importance, content,"
            " access_count, created_at) SELECT %s, 's', t, 'low', 'c', 5,"
            " timezone('utc', now()) - interval '400 days'"
            " FROM unnest(ARRAY['short_term', 'long_term', 'episodic']) t",
            [agent_id],
        )
        conn.execute("CALL agentdb.run_memory_maintenance()")
        assert conn.execute(
            "SELECT status FROM agentdb.maintenance_runs ORDER BY id DESC LIMIT 1"
        ).fetchone() == ("succeeded",)
        assert not is_superuser(conn, role)


def test_upgrade_rebuilds_what_an_earlier_install_bound_to_a_planted_operator(
    pg_cluster: PostgresCluster, attacker: tuple[str, str]
) -> None:
    """A database installed before the fix, its objects bound to public.=, is repaired."""
    role, url = attacker
    engine = create_engine(url)
    try:
        install.upgrade(engine, "0009", allow_untrusted_schema=True)
    finally:
        engine.dispose()
    with psycopg.connect(libpq_dsn(resolve_url(url)), autocommit=True) as conn:
        # what the old migrations built with public on their search path
        conn.execute("SET search_path = public, pg_catalog")
        conn.execute("DROP INDEX ix_agent_memories_short_term_created")
        conn.execute(
            "CREATE INDEX ix_agent_memories_short_term_created ON agent_memories (created_at)"
            " WHERE type = 'short_term'"
        )
        conn.execute("ALTER TABLE users DROP CONSTRAINT ck_users_role")
        conn.execute(
            "ALTER TABLE users ADD CONSTRAINT ck_users_role CHECK (role IN ('user', 'admin'))"
        )
        conn.execute("RESET search_path")
        assert {str(row[0]) for row in foreign_dependencies(conn)} == {
            "index ix_agent_memories_short_term_created",
            "constraint ck_users_role",
        }
    engine = create_engine(url)
    try:
        install.upgrade(engine, "head", allow_untrusted_schema=True)
    finally:
        engine.dispose()
    with psycopg.connect(libpq_dsn(resolve_url(url)), autocommit=True) as conn:
        assert foreign_dependencies(conn) == []
        assert qualified_names_outside_pg_catalog(conn) == []
        conn.execute("INSERT INTO users (email) VALUES ('b@example.com')")
        assert not is_superuser(conn, role)
