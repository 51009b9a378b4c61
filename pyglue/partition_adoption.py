"""Revision 0016's conversion of the execution tables to monthly partitions, online.

The tables as they are become one partition each, `<table>_legacy`, FOR
VALUES FROM (MINVALUE) TO (the boundary), of new partitioned tables built
beside them in a staging schema; no row is copied. New months start at the
boundary. Each step is short or non-blocking, commits on its own, and is
skipped when already done, so an interrupted run resumes where it stopped:

1. the partitioned tables (sql/partitions/execution_tables.sql) in the
   staging schema, the boundary chosen and kept in the schema's comment:
   the first of the month after next (UTC), or after the latest started_at;
2. execution_metrics gets started_at: added NULL (metadata only), filled by
   a trigger for new rows and by batches of `batch` rows for old ones, then
   NOT NULL through a validated CHECK (no scan under an exclusive lock);
3. the unique indexes a partition needs (id, started_at) and
   (execution_id, started_at), CREATE INDEX CONCURRENTLY;
4. CHECK (started_at < boundary) NOT VALID, then VALIDATE (writes go on);
5. agent_executions attached to its partitioned twin, so that the metrics'
   foreign key (execution_id, started_at) can be added NOT VALID and
   VALIDATEd against it while writes go on;
6. the swap, in one transaction under `lock_timeout`, retried: the other two
   tables attached, the old names moved to `_legacy`, the new tables moved
   into public, the stats and reference triggers installed on them. An empty
   table is dropped instead of attached (a new database has no legacy
   partition).

Writers wait at most `lock_timeout` at each of the brief exclusive locks
(the attach of step 5 and the swap); a step that cannot get its lock in
time is retried `retries` times, then the run stops with the error and can
be started again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

STAGING = "agentdb_partitioning"
TABLES = ("workflow_executions", "agent_executions", "execution_metrics")
LEGACY = "_legacy"
METRICS_FILL = "agentdb_partitioning_metrics_started_at"
EXECUTION_FOLLOW = "agentdb_partitioning_metrics_follow"
# the unique keys of the partitioned tables, which each old table needs as a
# constraint (ATTACH PARTITION takes an index for a parent's constraint
# index only when it backs a constraint too; else it builds one, locked)
KEY_INDEXES = {
    "workflow_executions": {"workflow_executions_id_started_at_key": "(id, started_at)"},
    "agent_executions": {"agent_executions_id_started_at_key": "(id, started_at)"},
    "execution_metrics": {
        "execution_metrics_id_started_at_key": "(id, started_at)",
        "execution_metrics_execution_id_started_at_key": "(execution_id, started_at)",
    },
}
METRICS_FK = "fk_execution_metrics_execution_id_agent_executions"
# A step that changes both tables locks them first in the order the
# platform writes them (a run, then its metrics): otherwise a writer
# holding the run and the step holding the metrics wait on each other.
LOCK_IN_WRITE_ORDER = (
    "LOCK TABLE public.agent_executions IN SHARE ROW EXCLUSIVE MODE;"
    " LOCK TABLE public.execution_metrics IN SHARE ROW EXCLUSIVE MODE;"
)

Log = Callable[[str], None]


def is_partitioned(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_partitioned_table WHERE partrelid IN"
        " (to_regclass('public.workflow_executions'), to_regclass('public.agent_executions'),"
        "  to_regclass('public.execution_metrics'))"
    ).fetchone()
    assert row is not None
    return int(row[0]) == len(TABLES)


def adopt(
    conn: psycopg.Connection[Any],
    execution_tables_sql: str,
    after_swap_sql: list[str],
    *,
    lock_timeout: str = "2s",
    retries: int = 30,
    batch: int = 10_000,
    log: Log = lambda _: None,
) -> None:
    """Convert the three tables (conn in autocommit mode); a no-op once done."""
    if batch <= 0:
        raise ValueError(f"batch must be a positive number of rows, not {batch}")
    if is_partitioned(conn):
        return
    boundary = _staging(conn, execution_tables_sql, log)
    _metrics_started_at(conn, batch, lock_timeout, retries, log)
    for table, indexes in KEY_INDEXES.items():
        for name, columns in indexes.items():
            _unique_key(conn, table, name, columns, lock_timeout, retries, log)
    for table in TABLES:
        _boundary_check(conn, table, boundary, lock_timeout, retries, log)
    _attach_agent_executions(conn, boundary, lock_timeout, retries, log)
    _metrics_foreign_key(conn, lock_timeout, retries, log)
    _retry(lambda: _swap(conn, boundary, after_swap_sql, lock_timeout), retries, "swap", log)
    conn.execute("ANALYZE public.workflow_executions, public.agent_executions,"
                 " public.execution_metrics")  # fmt: skip
    log("execution tables partitioned by month")


def _retry(step: Callable[[], None], retries: int, what: str, log: Log) -> None:
    for attempt in range(retries + 1):
        try:
            step()
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            if attempt == retries:
                raise
            log(f"{what}: lock not available, retry {attempt + 1} of {retries}")
            time.sleep(min(0.1 * 2**attempt, 5.0))


def _exists(conn: psycopg.Connection[Any], query: str, *params: object) -> bool:
    row = conn.execute(query, params).fetchone()
    return bool(row and row[0])


def _staging(conn: psycopg.Connection[Any], execution_tables_sql: str, log: Log) -> datetime:
    if not _exists(conn, "SELECT to_regnamespace(%s) IS NOT NULL", STAGING):
        with conn.transaction():
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(STAGING)))
            conn.execute(sql.SQL("SET LOCAL search_path = {}, pg_catalog").format(
                sql.Identifier(STAGING)))  # fmt: skip
            conn.execute(execution_tables_sql.encode())
            row = conn.execute(
                "SELECT greatest(date_trunc('month', timezone('UTC', now())),"
                " (SELECT date_trunc('month', max(started_at)) FROM public.workflow_executions),"
                " (SELECT date_trunc('month', max(started_at)) FROM public.agent_executions))"
                " + interval '2 months'"
            ).fetchone()
            assert row is not None
            conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                sql.Identifier(STAGING), sql.Literal(row[0].isoformat())))  # fmt: skip
        log(f"staging tables created; months start at {row[0]:%Y-%m-%d}")
    row = conn.execute(
        "SELECT obj_description(%s::regnamespace, 'pg_namespace')", (STAGING,)
    ).fetchone()
    assert row is not None
    return datetime.fromisoformat(row[0])


def _metrics_started_at(
    conn: psycopg.Connection[Any], batch: int, lock_timeout: str, retries: int, log: Log
) -> None:
    column = conn.execute(
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.execution_metrics'::regclass"
        " AND attname = 'started_at' AND NOT attisdropped"
    ).fetchone()
    if column is not None and column[0]:
        return
    if column is None:
        _retry(lambda: _add_metrics_column(conn, lock_timeout), retries, "metrics column", log)
    fill_not_null(
        conn, "execution_metrics", "started_at", "e.started_at",
        "public.agent_executions e", "e.id = m.execution_id",
        batch=batch, lock_timeout=lock_timeout, retries=retries, log=log,
    )  # fmt: skip


def fill_not_null(
    conn: psycopg.Connection[Any],
    table: str,
    column: str,
    value: str,
    source: str,
    join: str,
    *,
    batch: int,
    lock_timeout: str,
    retries: int,
    log: Log,
    key: tuple[str, ...] = ("id",),
    also_by: str | None = None,
) -> None:
    """Fill `public.<table>.<column>` where NULL, online, then make it NOT NULL (autocommit conn).

    Batches of `batch` rows in the order of `key` (uuid columns, the
    primary key's), each its own transaction: `SET
    <column> = <value> FROM <source> WHERE <join>`, the table aliased `m`.
    Rows written meanwhile must get the column another way (a trigger).
    `also_by`: a second key column the batch's rows are found by too (a
    partitioned table's partition key, so each row is read from one partition).
    Then CHECK (<column> IS NOT NULL) NOT VALID, VALIDATE (no exclusive
    lock), SET NOT NULL, which trusts the validated check and scans nothing,
    and the check dropped. Resumable: done batches have no NULL left.
    """
    last: tuple[Any, ...] | None = None
    filled = 0
    order = ", ".join(key)
    picked = order if also_by is None else f"{order}, {also_by}"
    match = " AND ".join(f"m.{c} = b.{c}" for c in (*key, *([also_by] if also_by else [])))
    after = ", ".join(f"%(k{i})s::uuid" for i in range(len(key)))
    last_key = ", ".join(f"{c} DESC" for c in key)
    while True:
        params: dict[str, Any] = {"n": batch, "first": last is None}
        params.update({f"k{i}": None if last is None else last[i] for i in range(len(key))})
        with conn.transaction():
            row = conn.execute(
                f"WITH b AS (SELECT {picked} FROM public.{table} WHERE {column} IS NULL"
                f" AND (%(first)s OR ({order}) > ({after})) ORDER BY {order} LIMIT %(n)s),"
                f" u AS (UPDATE public.{table} m SET {column} = {value}"
                f" FROM b, {source}"
                f" WHERE {match} AND {join} RETURNING 1)"
                f" SELECT (SELECT ROW({order}) FROM b ORDER BY {last_key} LIMIT 1),"
                " (SELECT count(*) FROM u)",
                params,
            ).fetchone()
        assert row is not None
        if row[0] is None:
            break
        last, filled = tuple(row[0]), filled + int(row[1])
    log(f"{table}.{column} filled for {filled} rows")
    check = f"ck_{table}_{column}_not_null"
    if not _exists(conn, "SELECT EXISTS (SELECT FROM pg_constraint WHERE conname = %s"
                   " AND conrelid = to_regclass(%s))", check, f"public.{table}"):  # fmt: skip
        statement = (
            f"ALTER TABLE public.{table} ADD CONSTRAINT {check}"
            f" CHECK ({column} IS NOT NULL) NOT VALID"
        )
        _retry(lambda: _locked(conn, lock_timeout, statement), retries, f"{table} check", log)
    conn.execute(f"ALTER TABLE public.{table} VALIDATE CONSTRAINT {check}")
    _retry(
        lambda: _locked(conn, lock_timeout,
                        f"ALTER TABLE public.{table} ALTER COLUMN {column} SET NOT NULL;"
                        f" ALTER TABLE public.{table} DROP CONSTRAINT {check}"),
        retries, f"{table} not null", log,
    )  # fmt: skip


def _add_metrics_column(conn: psycopg.Connection[Any], lock_timeout: str) -> None:
    _locked(
        conn,
        lock_timeout,
        f"""
        {LOCK_IN_WRITE_ORDER}
        ALTER TABLE public.execution_metrics ADD COLUMN started_at timestamp;
        CREATE FUNCTION {STAGING}.metrics_started_at() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            SELECT e.started_at INTO NEW.started_at
              FROM public.agent_executions e WHERE e.id = NEW.execution_id;
            RETURN NEW;
        END $$;
        CREATE TRIGGER {METRICS_FILL}
            BEFORE INSERT OR UPDATE OF execution_id ON public.execution_metrics
            FOR EACH ROW EXECUTE FUNCTION {STAGING}.metrics_started_at();
        CREATE FUNCTION {STAGING}.metrics_follow() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            UPDATE public.execution_metrics m SET started_at = NEW.started_at
             WHERE m.execution_id = NEW.id;
            RETURN NULL;
        END $$;
        CREATE TRIGGER {EXECUTION_FOLLOW}
            AFTER UPDATE OF started_at ON public.agent_executions
            FOR EACH ROW WHEN (OLD.started_at IS DISTINCT FROM NEW.started_at)
            EXECUTE FUNCTION {STAGING}.metrics_follow();
        """,
    )


def locked_step(
    conn: psycopg.Connection[Any],
    statements: str,
    *,
    lock_timeout: str,
    retries: int,
    what: str,
    log: Log,
) -> None:
    """`statements` in one transaction under `lock_timeout`, retried when locked out."""
    _retry(lambda: _locked(conn, lock_timeout, statements), retries, what, log)


def _locked(conn: psycopg.Connection[Any], lock_timeout: str, statements: str) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock_timeout)))
        conn.execute(statements.encode())


def _unique_key(
    conn: psycopg.Connection[Any],
    table: str,
    name: str,
    columns: str,
    lock_timeout: str,
    retries: int,
    log: Log,
) -> None:
    if _exists(conn, "SELECT EXISTS (SELECT FROM pg_constraint WHERE conname = %s"
               " AND conrelid = to_regclass(%s))", name, f"public.{table}"):  # fmt: skip
        return
    valid = conn.execute(
        "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
        (f"public.{name}",),
    ).fetchone()
    if valid is not None and not valid[0]:
        conn.execute(f"DROP INDEX CONCURRENTLY public.{name}")
    if valid is None or not valid[0]:
        conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON public.{table} {columns}")
    statement = f"ALTER TABLE public.{table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
    _retry(lambda: _locked(conn, lock_timeout, statement), retries, f"{table} key", log)
    log(f"{table}: unique key {columns}")


def _boundary_check(
    conn: psycopg.Connection[Any],
    table: str,
    boundary: datetime,
    lock_timeout: str,
    retries: int,
    log: Log,
) -> None:
    name = f"ck_{table}_before_months"
    row = conn.execute(
        "SELECT convalidated FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)",
        (name, f"public.{table}"),
    ).fetchone()
    if row is None:
        statement = (
            f"ALTER TABLE public.{table} ADD CONSTRAINT {name}"
            f" CHECK (started_at IS NOT NULL AND started_at < '{boundary.isoformat()}') NOT VALID"
        )
        _retry(lambda: _locked(conn, lock_timeout, statement), retries, f"{table} check", log)
    if row is None or not row[0]:
        conn.execute(f"ALTER TABLE public.{table} VALIDATE CONSTRAINT {name}")
        log(f"{table}: every row before {boundary:%Y-%m-%d}")


def _partition_of(conn: psycopg.Connection[Any], table: str) -> str | None:
    row = conn.execute(
        "SELECT n.nspname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
        " JOIN pg_namespace n ON n.oid = p.relnamespace WHERE i.inhrelid = to_regclass(%s)",
        (f"public.{table}",),
    ).fetchone()
    return None if row is None else str(row[0])


def _attach(table: str, boundary: datetime) -> str:
    return (
        f"ALTER TABLE {STAGING}.{table} ATTACH PARTITION public.{table}"
        f" FOR VALUES FROM (MINVALUE) TO ('{boundary.isoformat()}')"
    )


def _attach_agent_executions(
    conn: psycopg.Connection[Any], boundary: datetime, lock_timeout: str, retries: int, log: Log
) -> None:
    if _partition_of(conn, "agent_executions") == STAGING:
        return
    statement = _attach("agent_executions", boundary)
    _retry(lambda: _locked(conn, lock_timeout, statement), retries, "attach", log)
    log("agent_executions attached to its partitioned twin")


def _metrics_foreign_key(
    conn: psycopg.Connection[Any], lock_timeout: str, retries: int, log: Log
) -> None:
    name = f"{METRICS_FK}_months"
    row = conn.execute(
        "SELECT convalidated FROM pg_constraint WHERE conname = %s"
        " AND conrelid = 'public.execution_metrics'::regclass",
        (name,),
    ).fetchone()
    if row is None:
        statement = (
            f"{LOCK_IN_WRITE_ORDER} ALTER TABLE public.execution_metrics ADD CONSTRAINT {name}"
            f" FOREIGN KEY (execution_id, started_at) REFERENCES {STAGING}.agent_executions"
            " (id, started_at) ON UPDATE CASCADE ON DELETE CASCADE NOT VALID"
        )
        _retry(lambda: _locked(conn, lock_timeout, statement), retries, "metrics key", log)
    if row is None or not row[0]:
        conn.execute(f"ALTER TABLE public.execution_metrics VALIDATE CONSTRAINT {name}")
        log("execution_metrics: foreign key (execution_id, started_at) validated")


def _indexes(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = to_regclass(%s) ORDER BY 1",
        (f"{schema}.{table}",),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _swap(
    conn: psycopg.Connection[Any], boundary: datetime, after_swap_sql: list[str], lock_timeout: str
) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock_timeout)))
        conn.execute(
            "LOCK TABLE public.workflow_executions, public.agent_executions,"
            " public.execution_metrics IN ACCESS EXCLUSIVE MODE"
        )
        conn.execute(
            f"""
            DROP TRIGGER {METRICS_FILL} ON public.execution_metrics;
            DROP TRIGGER {EXECUTION_FOLLOW} ON public.agent_executions;
            ALTER TABLE public.execution_metrics DROP CONSTRAINT {METRICS_FK};
            ALTER TABLE public.agent_executions
                DROP CONSTRAINT fk_agent_executions_workflow_execution_id_workflow_executions;
            """
        )
        for table in TABLES:
            for trigger in conn.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s)"
                " AND NOT tgisinternal AND tgparentid = 0",
                (f"public.{table}",),
            ).fetchall():
                conn.execute(f"DROP TRIGGER {trigger[0]} ON public.{table}")
        empty = {
            table: not _exists(conn, f"SELECT EXISTS (SELECT FROM public.{table})")
            for table in TABLES
        }
        if empty["agent_executions"] and not empty["execution_metrics"]:
            raise RuntimeError("execution_metrics has rows but agent_executions has none")
        for table in ("execution_metrics", "agent_executions", "workflow_executions"):
            attached = _partition_of(conn, table) == STAGING
            if empty[table]:
                if attached:
                    conn.execute(f"ALTER TABLE {STAGING}.{table} DETACH PARTITION public.{table}")
                conn.execute(f"DROP TABLE public.{table}")
                continue
            if table == "execution_metrics":
                conn.execute(
                    f"ALTER TABLE public.{table} RENAME CONSTRAINT {METRICS_FK}_months"
                    f" TO {METRICS_FK}"
                )
            if not attached:
                conn.execute(_attach(table, boundary))
            for index in _indexes(conn, "public", table):
                conn.execute(f"ALTER INDEX public.{index} RENAME TO {index[:55]}{LEGACY}")
            conn.execute(f"ALTER TABLE public.{table} RENAME TO {table}{LEGACY}")
        for table in TABLES:
            for (partition,) in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = to_regclass(%s) AND c.relnamespace = %s::regnamespace",
                (f"{STAGING}.{table}", STAGING),
            ).fetchall():
                conn.execute(f"ALTER TABLE {STAGING}.{partition} SET SCHEMA public")
            conn.execute(f"ALTER TABLE {STAGING}.{table} SET SCHEMA public")
        conn.execute(f"DROP SCHEMA {STAGING} CASCADE")
        for script in after_swap_sql:
            conn.execute(script.encode())
