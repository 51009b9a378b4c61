"""agentdb's revisions in a database, through Alembic: upgrade, downgrade, stamp, check.

Server status is `pyglue.status`; pg_cron scheduling is `pyglue.scheduling`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text

from pyglue.errors import ConfigurationError

BASELINE = "0001"
MIN_SERVER_VERSION = 150000
REVISION_ALIASES = {"baseline": BASELINE}
# what the baseline creates, and a downgrade below it drops
PLATFORM_TABLES = (
    "users", "agents", "agent_tools", "knowledgebases", "agent_knowledgebases", "workflows",
    "agent_blocks", "workflow_edges", "workflow_executions", "agent_executions",
    "execution_metrics", "agent_memories",
)  # fmt: skip


@contextmanager
def alembic_config(connection: Connection) -> Iterator[Config]:
    """An Alembic Config over the migrations shipped in the package, bound to `connection`."""
    with as_file(files("pyglue").joinpath("migrations")) as location:
        config = Config()
        config.set_main_option("script_location", str(location))
        config.attributes["connection"] = connection
        yield config


def script_directory() -> ScriptDirectory:
    with as_file(files("pyglue").joinpath("migrations")) as location:
        config = Config()
        config.set_main_option("script_location", str(location))
        return ScriptDirectory.from_config(config)


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def require_supported_server(version_num: int) -> None:
    """Refuse a server_version_num older than PostgreSQL 15."""
    if version_num < MIN_SERVER_VERSION:
        raise ConfigurationError(
            f"PostgreSQL {version_num // 10000} is too old: agentdb needs PostgreSQL 15 or newer"
        )


def check_server(connection: Connection) -> int:
    """Refuse servers older than PostgreSQL 15 and databases at a revision we do not know."""
    version = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    require_supported_server(version)
    revision = current_revision(connection)
    if revision is not None:
        try:
            script_directory().get_revision(revision)
        except CommandError as exc:
            raise ConfigurationError(
                f"the database is at revision {revision!r}, which this agentdb "
                f"({head_revision()} at head) does not know: upgrade the pyglue package"
            ) from exc
    return version


# Roles, other than the installer and the superusers, that can CREATE in a
# schema on the installer's search_path (PUBLIC when granted to everyone).
# It runs on that search_path itself, so every operator is pg_catalog's by name.
UNTRUSTED_CREATORS = """
SELECT grantee, s.nspname
FROM unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS s (nspname, position)
JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) s.nspname
CROSS JOIN LATERAL (
    SELECT 'PUBLIC' AS grantee
    WHERE EXISTS (
        SELECT FROM pg_catalog.aclexplode(n.nspacl) a
        WHERE a.grantee OPERATOR(pg_catalog.=) 0::oid
          AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
    )
    UNION ALL
    SELECT r.rolname::text FROM pg_catalog.pg_roles r
    WHERE NOT r.rolsuper AND r.rolname OPERATOR(pg_catalog.<>) current_user
      AND r.rolname::text NOT LIKE 'pg\\_%'
      AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE')
) g
ORDER BY s.position, g.grantee
LIMIT 1
"""


def check_schema_trust(connection: Connection) -> None:
    """Refuse a search_path on which a role other than the installer can create objects.

    The revisions run under their own search_path (pg_catalog, pg_temp), but
    a function or operator planted on the installer's own path is one typo
    away from running with the installer's rights.
    """
    found = connection.execute(text(UNTRUSTED_CREATORS)).first()
    if found is not None:
        role, schema = found
        raise ConfigurationError(
            f"role {role} can CREATE in schema {schema}, which is on the installer's "
            "search_path: what it creates there could run as the installer; revoke that "
            f"(REVOKE CREATE ON SCHEMA {schema} FROM {role}) or pass --allow-untrusted-schema"
        )


def _resolve(revision: str) -> str:
    resolved = REVISION_ALIASES.get(revision, revision)
    if resolved not in ("head", "base"):
        # a relative revision (+1, -1) is refused too: say which one you mean
        try:
            if not resolved or resolved.startswith(("+", "-")):
                raise CommandError(f"not a revision: {resolved!r}")
            script_directory().get_revision(resolved)
        except CommandError as exc:
            known = ", ".join(r.revision for r in script_directory().walk_revisions())
            raise ConfigurationError(
                f"unknown revision {revision!r}: use head, baseline or one of {known}"
            ) from exc
    return resolved


def upgrade(
    engine: Engine, revision: str = "head", *, allow_untrusted_schema: bool = False
) -> None:
    """Upgrade to `revision` (idempotent: at that revision already, nothing runs).

    Refused when another role can CREATE in a schema on the installer's
    search_path, unless `allow_untrusted_schema`.
    """
    target = _resolve(revision)
    with engine.connect() as connection:
        check_server(connection)
        if not allow_untrusted_schema:
            check_schema_trust(connection)
        connection.commit()  # Alembic must begin its own transaction per revision
        with alembic_config(connection) as config:
            command.upgrade(config, target)
        connection.commit()


def undone_revisions(connection: Connection, target: str) -> list[str]:
    """The revisions a downgrade to `target` ("base" or a revision) undoes, newest first.

    Empty when the database is at `target` or below it (an upgrade).
    """
    current = current_revision(connection)
    if current is None:
        return []
    ancestors = [r.revision for r in script_directory().iterate_revisions(current, "base")]
    if target == "base":
        return ancestors
    return ancestors[: ancestors.index(target)] if target in ancestors else []


def revisions_to_undo(engine: Engine, revision: str) -> list[str]:
    """What reaching `revision` ("base", an alias or a revision) would undo, newest first."""
    target = "base" if revision == "base" else _resolve(revision)
    if target == "head":
        return []
    with engine.connect() as connection:
        return undone_revisions(connection, target)


def _count(connection: Connection, query: str) -> int:
    return int(connection.execute(text(query)).scalar_one())


def downgrade_losses(connection: Connection, target: str) -> list[str]:
    """What a downgrade to `target` drops that no upgrade brings back, one phrase each."""
    undone = set(undone_revisions(connection, target))
    losses: list[str] = []
    if "0008" in undone:
        rows = _count(connection, "SELECT count(*) FROM agentdb.slow_queries")
        losses.append(f"the slow-query log ({rows} rows)")
    if "0007" in undone:
        rows = _count(
            connection,
            "SELECT (SELECT count(*) FROM public.agent_execution_stats)"
            " + (SELECT count(*) FROM public.workflow_execution_stats)"
            " + (SELECT count(*) FROM public.user_execution_stats)",
        )
        gone = _count(
            connection,
            "SELECT count(DISTINCT s.date) FROM public.user_execution_stats s"
            " WHERE NOT EXISTS (SELECT FROM public.agent_executions e"
            "   WHERE e.started_at >= s.date AND e.started_at < s.date + 1)"
            " AND NOT EXISTS (SELECT FROM public.workflow_executions w"
            "   WHERE w.started_at >= s.date AND w.started_at < s.date + 1)",
        )
        losses.append(
            f"the execution-stats rollups ({rows} rows, {gone} days of them not rebuildable: "
            "their raw executions are gone)"
        )
    if "0006" in undone:
        custom = _count(
            connection,
            "SELECT count(*) FROM agentdb.memory_policies WHERE policy_name"
            " NOT IN ('short_term', 'long_term_low', 'episodic_low')",
        )
        losses.append(f"the memory policies ({custom} custom, and any edit of the defaults)")
    if "0004" in undone:
        runs = _count(connection, "SELECT count(*) FROM agentdb.maintenance_runs")
        losses.append(f"the run log ({runs} runs in agentdb.maintenance_runs)")
    if BASELINE in undone:
        users = _count(connection, "SELECT count(*) FROM public.users")
        losses.append(
            f"the platform's {len(PLATFORM_TABLES)} tables and every row in them ({users} users)"
        )
    return losses


def downgrade(engine: Engine, revision: str, *, drop_platform_tables: bool = False) -> list[str]:
    """Downgrade to `revision` ("base": below the baseline); what it lost (`downgrade_losses`).

    Below the baseline the platform's tables are dropped: refused unless
    `drop_platform_tables`.
    """
    target = "base" if revision == "base" else _resolve(revision)
    with engine.connect() as connection:
        check_server(connection)
        losses = downgrade_losses(connection, target)
        if BASELINE in undone_revisions(connection, target) and not drop_platform_tables:
            raise ConfigurationError(
                f"downgrading to {revision} drops {'; '.join(losses)}: "
                "pass --drop-platform-tables (drop_platform_tables=True) to do it"
            )
        connection.commit()  # Alembic must begin its own transaction per revision
        with alembic_config(connection) as config:
            config.attributes["drop_platform_tables"] = drop_platform_tables
            command.downgrade(config, target)
        connection.commit()
    return losses


def adoption_problem(connection: Connection) -> str | None:
    """Why this database is not an unadopted platform database at the baseline, or None."""
    missing = (
        connection.execute(
            text(
                "SELECT t FROM unnest(CAST(:tables AS text[])) WITH ORDINALITY AS u (t, n)"
                " WHERE to_regclass('public.' || quote_ident(t)) IS NULL ORDER BY n"
            ),
            {"tables": list(PLATFORM_TABLES)},
        )
        .scalars()
        .all()
    )
    if len(missing) == len(PLATFORM_TABLES):
        return (
            f"none of the platform's {len(PLATFORM_TABLES)} tables is in schema public: "
            "nothing to adopt (a new database needs pyglue install without --adopt)"
        )
    if missing:
        return (
            f"{len(missing)} of the platform's {len(PLATFORM_TABLES)} tables are missing from "
            f"schema public ({', '.join(missing)}): this is not the baseline schema"
        )
    if connection.execute(text("SELECT to_regnamespace('agentdb')")).scalar() is not None:
        return (
            "schema agentdb exists but no Alembic revision is recorded: agentdb was installed "
            "here without its revision table, so stamping the baseline would install it again"
        )
    jsonb = connection.execute(
        text(
            "SELECT table_name || '.' || column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type = 'jsonb'"
            " AND table_name = ANY(CAST(:tables AS text[])) ORDER BY 1 LIMIT 1"
        ),
        {"tables": list(PLATFORM_TABLES)},
    ).scalar()
    if jsonb is not None:
        return f"{jsonb} is jsonb where the baseline has json: this is not the baseline schema"
    return None


def adopt(engine: Engine) -> str:
    """Stamp an existing platform database as the baseline, after checking it is one.

    Idempotent: a database that already records a revision is left as it is.
    Anything but the platform's tables at the baseline and no recorded revision
    is refused, naming what was found. Returns what was done.
    """
    with engine.connect() as connection:
        check_server(connection)
        current = current_revision(connection)
        if current is not None:
            return f"already adopted (the database records revision {current}): nothing to stamp"
        problem = adoption_problem(connection)
        if problem is not None:
            raise ConfigurationError(f"cannot adopt: {problem}")
    stamp(engine, BASELINE)
    return f"stamped the existing schema as the baseline ({BASELINE})"


def stamp(engine: Engine, revision: str = BASELINE) -> None:
    """Record `revision` without running it: how an existing database adopts agentdb."""
    target = _resolve(revision)
    with engine.connect() as connection:
        check_server(connection)
        connection.commit()  # Alembic must begin its own transaction per revision
        with alembic_config(connection) as config:
            command.stamp(config, target)
        connection.commit()


def pending_revisions(connection: Connection) -> list[str]:
    current = current_revision(connection)
    pending = [
        r.revision for r in script_directory().iterate_revisions("head", current or "base")
        if r.revision != current
    ]  # fmt: skip
    return list(reversed(pending))


# `pyglue install --citus`: the conversion's SQL, in sql/citus/ (not part of
# the revision chain: a single-node database never runs it), applied in this
# order in one transaction. routines/ replaces the routines whose single-node
# statements Citus cannot run as they are, and adds the triggers' stand-ins
# for the foreign key actions Citus refuses.
CITUS_STEPS = ("citus/add_user_id.sql", "citus/composite_keys.sql", "citus/distribute.sql")
CITUS_AFTER_ROUTINES = ("citus/foreign_keys.sql", "citus/functions.sql")
# the dashboards run on the node that holds the user's rows
CITUS_DELEGATED = ("user_dashboard", "user_daily_stats", "agent_stats_summary")


def citus_problem(connection: Connection) -> str | None:
    """Why `pyglue install --citus` cannot run on this database, in one line, or None."""
    available = connection.execute(
        text("SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = 'citus'")
    ).scalar()
    if available is None:
        return (
            "the citus extension is not available on this server "
            "(no citus.control: install Citus for this PostgreSQL first)"
        )
    installed = connection.execute(
        text("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'citus'")
    ).scalar()
    if installed is None:
        return (
            "the citus extension is not created in this database "
            "(shared_preload_libraries must start with citus; then CREATE EXTENSION citus "
            "here and on every worker, and citus_add_node each worker)"
        )
    coordinator = connection.execute(
        text("SELECT count(*) FROM pg_catalog.pg_dist_node WHERE groupid = 0")
    ).scalar_one()
    if not coordinator:
        return (
            "this database is not a Citus coordinator: run "
            "citus_set_coordinator_host() and citus_add_node() for the workers first"
        )
    return None


def is_citus(connection: Connection) -> bool:
    """Whether this database was converted by `pyglue install --citus`."""
    return bool(
        connection.execute(
            text(
                "SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL"
                " AND EXISTS (SELECT FROM pg_catalog.pg_dist_partition"
                "             WHERE logicalrelid = 'public.agents'::regclass)"
            )
        ).scalar()
    )


def check_citus(engine: Engine) -> None:
    """Refuse, naming what is missing, a server where the Citus conversion cannot run."""
    with engine.connect() as connection:
        problem = citus_problem(connection)
    if problem is not None:
        raise ConfigurationError(f"cannot install for Citus: {problem}")


def _citus_routines() -> list[str]:
    from pyglue.sqlfiles import citus_files

    return [name for name in citus_files() if name.startswith("citus/routines/")]


def _run_citus_files(engine: Engine, names: list[str]) -> None:
    from pyglue.sqlfiles import read_live

    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        with dbapi.transaction():
            cursor = dbapi.cursor()
            # the stats triggers stay on the distributed tables and run on their shards
            cursor.execute("SET LOCAL citus.enable_unsafe_triggers = on")
            # one connection per worker: DDL and data copy of one transaction see each other
            cursor.execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
            for name in names:
                cursor.execute(read_live(name).encode())
    finally:
        raw.close()


def convert_to_citus(engine: Engine) -> str:
    """Distribute an agentdb database at head by user_id; returns what was done.

    Checks first (`check_citus`), then in one transaction: the single-node
    triggers that fill the children's user_id (0020) dropped, keys made
    (user_id, ...), users and memory_policies reference tables, every other
    table with user_id distributed co-located with agents, foreign keys back
    composite, the Citus variants of the routines.
    On a database already converted it only applies the routines again (a
    revision run since may have replaced some by their single-node text).
    """
    check_citus(engine)
    with engine.connect() as connection:
        if current_revision(connection) != head_revision():
            raise ConfigurationError(
                "cannot install for Citus: the database is not at head (pyglue install first)"
            )
        converted = is_citus(connection)
    if converted:
        # a revision since may have created the single-node triggers again
        _run_citus_files(
            engine, ["citus/add_user_id.sql", *_citus_routines(), "citus/functions.sql"]
        )
        return "already distributed by user_id: the Citus routines applied again"
    _run_citus_files(engine, [*CITUS_STEPS, *_citus_routines(), *CITUS_AFTER_ROUTINES])
    return "distributed by user_id on Citus"
