-- Citus conversion, step 2 (pyglue install --citus): make every key of the
-- tables to distribute hold user_id, read from the catalog (whatever the
-- table's key is today, partitioned or not).
--
-- Citus enforces a primary key, a unique constraint or a foreign key only
-- within one shard, so each must contain the distribution column: (id)
-- becomes (user_id, id), (id, started_at) becomes (user_id, id, started_at),
-- UNIQUE (execution_id) becomes UNIQUE (user_id, execution_id). Uniqueness
-- per user implies uniqueness overall for keys holding a random uuid, and
-- is what a shard can check.
--
-- The tables to distribute are those of schemas public and agentdb with a
-- user_id column (after add_user_id.sql), partitions aside, except users:
-- users and agentdb.memory_policies become reference tables (a copy on every
-- node) and keep their keys, so users.email stays UNIQUE.
--
-- First every foreign key from or to those tables is written down in
-- pg_temp.agentdb_citus_foreign_keys (this transaction only) and dropped:
-- a table can be distributed only when its foreign keys point at tables
-- Citus already knows, and foreign_keys.sql puts them back, composite,
-- once every table is distributed.
CREATE TEMPORARY TABLE agentdb_citus_foreign_keys (
    table_name regclass NOT NULL,
    constraint_name name NOT NULL,
    columns name[] NOT NULL,
    referenced_table regclass NOT NULL,
    referenced_columns name[] NOT NULL,
    on_update "char" NOT NULL,
    on_delete "char" NOT NULL,
    is_deferrable boolean NOT NULL,
    is_deferred boolean NOT NULL
) ON COMMIT DROP;

CREATE TEMPORARY TABLE agentdb_citus_tables (
    table_name regclass PRIMARY KEY,
    reference boolean NOT NULL
) ON COMMIT DROP;

INSERT INTO agentdb_citus_tables (table_name, reference)
SELECT c.oid::regclass, false
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace IN ('public'::regnamespace, 'agentdb'::regnamespace)
   AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND c.oid <> 'public.users'::regclass
   AND EXISTS (SELECT FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped)
UNION ALL
SELECT 'public.users'::regclass, true
UNION ALL
SELECT 'agentdb.memory_policies'::regclass, true;

DO $$
DECLARE
    v_key record;
    v_index record;
BEGIN
    INSERT INTO agentdb_citus_foreign_keys
    SELECT k.conrelid::regclass, k.conname,
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u (n, i)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                  ORDER BY u.i),
           k.confrelid::regclass,
           ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u (n, i)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                  ORDER BY u.i),
           k.confupdtype, k.confdeltype, k.condeferrable, k.condeferred
      FROM pg_catalog.pg_constraint k
     WHERE k.contype = 'f'
       AND k.conparentid = 0  -- a partitioned table's key, not its partitions' copies
       AND (k.conrelid IN (SELECT t.table_name FROM agentdb_citus_tables t)
            OR k.confrelid IN (SELECT t.table_name FROM agentdb_citus_tables t));

    FOR v_key IN SELECT f.table_name, f.constraint_name FROM agentdb_citus_foreign_keys f LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', v_key.table_name, v_key.constraint_name);
    END LOOP;

    -- primary keys and unique constraints without user_id: user_id first
    FOR v_key IN
        SELECT k.conrelid::regclass AS table_name, k.conname, k.contype,
               ARRAY(SELECT quote_ident(a.attname) FROM unnest(k.conkey) WITH ORDINALITY AS u (n, i)
                       JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                      ORDER BY u.i) AS columns
          FROM pg_catalog.pg_constraint k
          JOIN agentdb_citus_tables t ON t.table_name = k.conrelid AND NOT t.reference
         WHERE k.contype IN ('p', 'u') AND k.conparentid = 0
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = k.conrelid AND a.attname = 'user_id'
                              AND a.attnum = ANY (k.conkey))
         ORDER BY 1, 2
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s (user_id, %s)',
                       v_key.table_name, v_key.conname, v_key.conname,
                       CASE v_key.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END,
                       array_to_string(v_key.columns, ', '));
    END LOOP;

    -- a unique index that is no constraint cannot be rewritten blindly: name it
    FOR v_index IN
        SELECT i.indexrelid::regclass AS index_name
          FROM pg_catalog.pg_index i
          JOIN agentdb_citus_tables t ON t.table_name = i.indrelid AND NOT t.reference
         WHERE i.indisunique
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = i.indrelid AND a.attname = 'user_id'
                              AND a.attnum = ANY (i.indkey))
    LOOP
        RAISE EXCEPTION 'unique index % does not hold user_id: Citus cannot enforce it per shard; add user_id to it or drop it before converting',
            v_index.index_name
            USING ERRCODE = 'feature_not_supported';
    END LOOP;
END
$$;
