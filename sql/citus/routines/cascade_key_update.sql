-- agentdb.cascade_key_update: on Citus, what ON UPDATE CASCADE did for a
-- foreign key that now holds user_id (Citus refuses it there). AFTER UPDATE
-- on the referenced table; arguments: the referencing table, its key
-- columns, the referenced columns (text arrays, user_id first on both
-- sides). When a referenced column changed (an execution's started_at moved
-- it to another month), that user's referencing rows get the new values;
-- the key is DEFERRABLE INITIALLY DEFERRED, so it is checked at commit,
-- after this trigger ran. SECURITY DEFINER, like a foreign key action.
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
    v_new jsonb := to_jsonb(NEW);
    v_set text[] := '{}';
    v_match text[] := '{}';
    v_type text;
BEGIN
    IF NOT EXISTS (SELECT FROM unnest(v_referenced) c WHERE v_old -> c IS DISTINCT FROM v_new -> c) THEN
        RETURN NULL;
    END IF;
    FOR v_i IN 1..cardinality(v_columns) LOOP
        CONTINUE WHEN v_columns[v_i] = 'user_id';
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
    'Citus: AFTER UPDATE trigger standing in for ON UPDATE CASCADE on a key that holds user_id (arguments: referencing table, its columns, referenced columns)';
REVOKE EXECUTE ON FUNCTION agentdb.cascade_key_update() FROM PUBLIC;
