"""hardening (issue 12): nothing a less-privileged role planted runs as the installer

- Every index in public, and every check constraint and column default in
  public and agentdb, that an earlier install bound to an operator outside pg_catalog (a planted
  exact-match `public.=(varchar, varchar)`: the revisions used to run with
  public on their search_path) is rebuilt bound to pg_catalog's: an index
  CONCURRENTLY beside the old one, which is then dropped; a check constraint
  re-added NOT VALID and validated; a default set again. Anything else
  outside pg_catalog (a function) is refused with one line naming it. A
  database that was never attacked has nothing to rebuild.

- The run log, agentdb.maintenance_runs, is append-only for every role but
  its owner: begin_run and finish_run become SECURITY DEFINER, finish_run
  closes only a running row (and takes only a JSON object as counts), and
  run_memory_maintenance writes its counts and closes abandoned runs through
  two new SECURITY DEFINER functions, record_run_counts and
  close_abandoned_runs (the latter only for the holder of the job's advisory
  lock); agentdb_admin loses INSERT and UPDATE on the table.
- record_slow_query refuses a p_recorded_at that is not finite or is more than
  5 minutes ahead: an 'infinity' row outlived every purge.
- fold_execution_stats (0010) writes the run log the same way;
  check_execution_stats refuses a day that is not finite or is BC (no client
  reads the day it returned).

- memory_policies.max_age is at most 100 years (refused naming the column),
  and one failing policy no longer stops the cleanup: cleanup_expired_memories
  and preview_memory_cleanup return a failing policy's error (a new column,
  so both are dropped and created again) and run_memory_maintenance records
  it under counts.policy_errors, cleans with the others, ends 'failed'
  naming the policy, and raises that error once everything is COMMITted.

Price: on an attacked database, one concurrent index build per bound index and
one validating scan per bound constraint; elsewhere a catalog query.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import re

from alembic import op

from pyglue.errors import ConfigurationError
from pyglue.migration_ops import create_index_concurrently, drop_index_concurrently, run_frozen

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Every index, default and check constraint in public and agentdb that depends
# on an operator or function outside pg_catalog. The queries below run, like
# every revision, under search_path = pg_catalog, pg_temp: names resolve in
# pg_catalog, and a foreign operator deparses as OPERATOR(schema.op).
FOREIGN_BOUND = """
SELECT DISTINCT d.classid::regclass::text AS kind, d.objid,
       CASE d.refclassid WHEN 'pg_proc'::regclass THEN d.refobjid::regprocedure::text END
           AS function
FROM pg_depend d
LEFT JOIN pg_operator o
       ON d.refclassid = 'pg_operator'::regclass
      AND o.oid = d.refobjid
LEFT JOIN pg_proc p
       ON d.refclassid = 'pg_proc'::regclass
      AND p.oid = d.refobjid
WHERE d.classid IN ('pg_class'::regclass, 'pg_attrdef'::regclass,
                    'pg_constraint'::regclass)
  AND coalesce(o.oprnamespace, p.pronamespace) <> 'pg_catalog'::regnamespace
ORDER BY 1, 2
"""

INDEX = """
SELECT c.relname, pg_get_indexdef(c.oid), i.indisunique
FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.oid = %(oid)s AND c.relnamespace = 'public'::regnamespace
"""

CONSTRAINT = """
SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
WHERE k.oid = %(oid)s AND k.contype = 'c'
  AND k.connamespace IN ('public'::regnamespace, 'agentdb'::regnamespace)
"""

DEFAULT = """
SELECT d.adrelid::regclass::text, quote_ident(a.attname),
       pg_get_expr(d.adbin, d.adrelid)
FROM pg_attrdef d
JOIN pg_attribute a
  ON a.attrelid = d.adrelid AND a.attnum = d.adnum
JOIN pg_class c ON c.oid = d.adrelid
WHERE d.oid = %(oid)s
  AND c.relnamespace IN ('public'::regnamespace, 'agentdb'::regnamespace)
"""

# OPERATOR(schema.op) as pg_get_*def prints an operator outside the search path
FOREIGN_OPERATOR = re.compile(r"OPERATOR\((?!pg_catalog\.)[^.()]+\.([^()]+)\)")


def to_pg_catalog(definition: str) -> str:
    """The same expression, each foreign operator replaced by pg_catalog's of that name."""
    return FOREIGN_OPERATOR.sub(r"OPERATOR(pg_catalog.\1)", definition)


def _rebuild_index(name: str, definition: str, unique: bool) -> None:
    if unique:
        raise ConfigurationError(
            f"unique index {name} is bound to an operator outside pg_catalog: "
            "rebuild it by hand under search_path = pg_catalog"
        )
    on = definition[definition.index(" ON ") + 1 :]
    temporary = f"{name[:58]}_0011"  # within the 63 characters of a name
    create_index_concurrently(temporary, to_pg_catalog(on))
    drop_index_concurrently(name)
    op.execute(f'ALTER INDEX public."{temporary}" RENAME TO "{name}"')


def rebind_to_pg_catalog() -> list[str]:
    """Rebuild what is bound to a foreign operator; the objects rebuilt."""
    bind = op.get_bind()
    rebuilt: list[str] = []
    for kind, oid, function in bind.exec_driver_sql(FOREIGN_BOUND).all():
        if kind == "pg_class":
            row = bind.exec_driver_sql(INDEX, {"oid": oid}).first()
            if row is None:
                continue
            if function is not None:
                raise ConfigurationError(f"index {row[0]} calls {function}, outside pg_catalog")
            _rebuild_index(row[0], row[1], row[2])
            rebuilt.append(f"index {row[0]}")
        elif kind == "pg_constraint":
            row = bind.exec_driver_sql(CONSTRAINT, {"oid": oid}).first()
            if row is None:
                continue
            table, name, definition = row
            if function is not None:
                raise ConfigurationError(f"constraint {name} calls {function}, outside pg_catalog")
            op.execute(
                f'ALTER TABLE {table} DROP CONSTRAINT "{name}", '
                f'ADD CONSTRAINT "{name}" {to_pg_catalog(definition)} NOT VALID'
            )
            op.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
            rebuilt.append(f"constraint {name}")
        else:
            row = bind.exec_driver_sql(DEFAULT, {"oid": oid}).first()
            if row is None:
                continue
            table, column, expression = row
            if function is not None:
                raise ConfigurationError(
                    f"the default of {table}.{column} calls {function}, outside pg_catalog"
                )
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {to_pg_catalog(expression)}"
            )
            rebuilt.append(f"default of {table}.{column}")
    return rebuilt


UPGRADE = {
    "core/begin_run.sql": "3b69ccab012c",
    "core/finish_run.sql": "1efd4e5f50d8",
    "core/record_run_counts.sql": "55657b65cd59",
    "core/close_abandoned_runs.sql": "7359d2f93c0f",
    "memory_return_types.sql": "d1947a58b033",
    "memory/validate_memory_policy.sql": "0ac18d0c3f0d",
    "memory/cleanup_expired_memories.sql": "5cb632824d61",
    "memory/preview_memory_cleanup.sql": "cd84d60bc371",
    "memory/run_memory_maintenance.sql": "d17343625f24",
    "monitoring/record_slow_query.sql": "38095688be3b",
    "stats/fold_execution_stats.sql": "84d7fb89aeee",
    "stats/check_execution_stats.sql": "0e5fae2670ea",
    "upgrade.sql": "38ada8627e48",
}


def upgrade() -> None:
    rebind_to_pg_catalog()
    run_frozen(revision, UPGRADE)


def downgrade() -> None:
    # what was rebound to pg_catalog stays so
    run_frozen(revision, {"downgrade.sql": "c4ecf27f4c86"})
    # the versions the earlier revisions installed, from their frozen copies
    run_frozen(
        "0004", {"core/begin_run.sql": "76cb4d8fe04f", "core/finish_run.sql": "a78ebf71fd6b"}
    )
    run_frozen(
        "0006",
        {
            "memory/run_log_grants.sql": "e9822570c052",
            "memory/validate_memory_policy.sql": "c7600be87e8b",
            "memory/preview_memory_cleanup.sql": "3291dc0ce518",
            "memory/cleanup_expired_memories.sql": "f5d73aa1e0b8",
        },
    )
    run_frozen("0008", {"monitoring/record_slow_query.sql": "3b85049ba498"})
    run_frozen("0009", {"memory/run_memory_maintenance.sql": "ffad67c83215"})
    run_frozen("0007", {"stats/check_execution_stats.sql": "058f05002f60"})
    run_frozen("0010", {"stats/fold_execution_stats.sql": "3bdeb1acdb3f"})
