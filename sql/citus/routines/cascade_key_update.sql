-- agentdb.cascade_key_update: on Citus, what ON UPDATE CASCADE did for a
-- foreign key that now holds user_id (Citus refuses it there). AFTER UPDATE
-- OR DELETE on the referenced table; arguments: the referencing table, its
-- key columns, the referenced columns (text arrays, without user_id), the
-- referenced table. When a referenced column changed (an execution's
-- started_at moved), that user's referencing rows get the new values; the
-- key is DEFERRABLE INITIALLY DEFERRED, so it is checked at commit, after
-- this trigger ran.
-- An UPDATE that moves a row to another partition of a partitioned table is
-- a DELETE in this partition (and an INSERT in the other): on DELETE, a row
-- of the same user with the same values in the referenced columns that are
-- not the partition key (the execution's id) is the moved row, and its new
-- values are carried; no such row: a real delete, which the key's ON DELETE
-- action handles. Every statement is scoped by user_id: it runs on the
-- shards beside the row's own. SECURITY DEFINER, like a foreign key action.
-- Installed by pyglue install --citus only.
CREATE OR REPLACE FUNCTION agentdb.cascade_key_update()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_columns text[] := TG_ARGV[1]::text[];
    v_referenced text[] := TG_ARGV[2]::text[];
    v_old jsonb := to_jsonb(OLD);
    v_new jsonb;
    v_identity text[];
    v_set text[] := '{}';
    v_match text[] := '{}';
    v_type text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_identity := ARRAY(
            SELECT c FROM unnest(v_referenced) c
             WHERE c NOT IN (SELECT a.attname
                               FROM pg_partitioned_table pt
                               JOIN pg_attribute a ON a.attrelid = pt.partrelid
                                                  AND a.attnum = ANY (pt.partattrs)
                              WHERE pt.partrelid = TG_ARGV[3]::regclass));
        IF cardinality(v_identity) = cardinality(v_referenced) THEN
            RETURN NULL;  -- not partitioned by a key column: a delete is a delete
        END IF;
        EXECUTE format('SELECT to_jsonb(r) FROM %s r WHERE r.user_id = $1 AND %s',
                       TG_ARGV[3]::regclass,
                       array_to_string(ARRAY(
                           SELECT format('r.%1$I = CAST($2 ->> %1$L AS %2$s)', a.attname,
                                         format_type(a.atttypid, a.atttypmod))
                             FROM pg_attribute a
                            WHERE a.attrelid = TG_ARGV[3]::regclass AND a.attname = ANY (v_identity)),
                           ' AND '))
            INTO v_new USING OLD.user_id, v_old;
        IF v_new IS NULL THEN
            RETURN NULL;
        END IF;
    ELSE
        v_new := to_jsonb(NEW);
    END IF;
    IF NOT EXISTS (SELECT FROM unnest(v_referenced) c WHERE v_old -> c IS DISTINCT FROM v_new -> c) THEN
        RETURN NULL;
    END IF;
    FOR v_i IN 1..cardinality(v_columns) LOOP
        SELECT format_type(a.atttypid, a.atttypmod) INTO STRICT v_type
          FROM pg_attribute a
         WHERE a.attrelid = TG_ARGV[0]::regclass AND a.attname = v_columns[v_i] AND NOT a.attisdropped;
        v_set := v_set || format('%I = CAST($2 ->> %L AS %s)', v_columns[v_i], v_referenced[v_i], v_type);
        v_match := v_match || format('%I = CAST($3 ->> %L AS %s)', v_columns[v_i], v_referenced[v_i], v_type);
    END LOOP;
    EXECUTE format('UPDATE %s SET %s WHERE user_id = $1 AND %s', TG_ARGV[0]::regclass,
                   array_to_string(v_set, ', '), array_to_string(v_match, ' AND '))
        USING OLD.user_id, v_new, v_old;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.cascade_key_update() IS
    'Citus: AFTER UPDATE OR DELETE trigger standing in for ON UPDATE CASCADE on a key that holds user_id, moves between partitions included (arguments: referencing table, its columns, referenced columns, referenced table)';
REVOKE EXECUTE ON FUNCTION agentdb.cascade_key_update() FROM PUBLIC;
