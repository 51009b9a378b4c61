-- agentdb.set_null_on_delete: on Citus, what ON DELETE SET NULL did for a
-- foreign key that now holds user_id (Citus refuses SET NULL there: it would
-- null the distribution column). BEFORE DELETE on the referenced table;
-- arguments: the referencing table, its column, the referenced column. It
-- sets the column to NULL in that user's referencing rows (co-located: the
-- same node, one shard), so the NO ACTION key finds nothing left to refuse.
-- SECURITY DEFINER: like a foreign key action, it runs whatever the
-- deleting role may update. Installed by pyglue install --citus only.
CREATE OR REPLACE FUNCTION agentdb.set_null_on_delete()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type text;
BEGIN
    SELECT format_type(a.atttypid, a.atttypmod) INTO STRICT v_type
      FROM pg_attribute a
     WHERE a.attrelid = TG_ARGV[0]::regclass AND a.attname = TG_ARGV[1] AND NOT a.attisdropped;
    EXECUTE format('UPDATE %s SET %I = NULL WHERE user_id = $1 AND %I = CAST($2 AS %s)',
                   TG_ARGV[0]::regclass, TG_ARGV[1], TG_ARGV[1], v_type)
        USING OLD.user_id, to_jsonb(OLD) ->> TG_ARGV[2];
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION agentdb.set_null_on_delete() IS
    'Citus: BEFORE DELETE trigger standing in for ON DELETE SET NULL on a key that holds user_id (arguments: referencing table, its column, referenced column)';
REVOKE EXECUTE ON FUNCTION agentdb.set_null_on_delete() FROM PUBLIC;
