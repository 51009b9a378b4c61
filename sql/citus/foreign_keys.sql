-- Citus conversion, step 4 (pyglue install --citus): put back every foreign
-- key composite_keys.sql dropped, with user_id on both sides when the
-- referenced table is distributed (then both rows are on one shard group and
-- the shard checks the key), as it was when the referenced table is a
-- reference table (users: every node has it).
--
-- Citus refuses ON DELETE SET NULL on a key that holds the distribution
-- column (it would null user_id too). Such a key (agent_blocks.agent_id ->
-- agents, agent_executions.workflow_execution_id -> workflow_executions)
-- comes back as NO ACTION (still checked on every write), and a BEFORE
-- DELETE trigger on the referenced table (agentdb.set_null_on_delete) sets
-- the referencing column to NULL in that user's rows first: what SET NULL
-- did, so the key check finds nothing left to refuse. Likewise Citus
-- refuses ON UPDATE CASCADE on such a key: it comes back DEFERRABLE
-- INITIALLY DEFERRED, and an AFTER UPDATE OR DELETE trigger
-- (agentdb.cascade_key_update; a move to another partition is a DELETE
-- there) carries the new key values to the referencing rows before the key
-- is checked at commit.
DO $$
DECLARE
    v_key record;
    v_distributed boolean;
    v_columns text;
    v_referenced text;
    v_update text;
    v_delete text;
    v_referencing text;
BEGIN
    FOR v_key IN SELECT * FROM agentdb_citus_foreign_keys ORDER BY table_name::text, constraint_name LOOP
        v_distributed := NOT (SELECT t.reference FROM agentdb_citus_tables t
                               WHERE t.table_name = v_key.referenced_table);
        IF v_distributed AND NOT 'user_id' = ANY (v_key.columns) THEN
            v_columns := 'user_id, ' || array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(v_key.columns) c), ', ');
            v_referenced := 'user_id, ' || array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(v_key.referenced_columns) c), ', ');
        ELSE
            v_columns := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(v_key.columns) c), ', ');
            v_referenced := array_to_string(ARRAY(SELECT quote_ident(c) FROM unnest(v_key.referenced_columns) c), ', ');
        END IF;
        -- schema-qualified: the triggers run with search_path = pg_catalog, pg_temp
        SELECT format('%I.%I', n.nspname, c.relname) INTO v_referencing
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = v_key.table_name;
        -- on a distributed key SET NULL and ON UPDATE CASCADE become triggers (below)
        v_delete := CASE v_key.on_delete WHEN 'c' THEN 'CASCADE' WHEN 'r' THEN 'RESTRICT'
                                         WHEN 'n' THEN CASE WHEN v_distributed THEN 'NO ACTION' ELSE 'SET NULL' END
                                         WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END;
        v_update := CASE v_key.on_update WHEN 'r' THEN 'RESTRICT'
                                         WHEN 'c' THEN CASE WHEN v_distributed THEN 'NO ACTION' ELSE 'CASCADE' END
                                         WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
                                         ELSE 'NO ACTION' END;

        IF v_distributed AND v_key.on_delete = 'n' THEN
            IF cardinality(v_key.columns) <> 1 THEN
                RAISE EXCEPTION 'foreign key % on % sets % NULL on delete: only a one-column key can be replaced by a trigger',
                    v_key.constraint_name, v_key.table_name, v_key.columns
                    USING ERRCODE = 'feature_not_supported';
            END IF;
            EXECUTE format(
                'CREATE TRIGGER %I BEFORE DELETE ON %s FOR EACH ROW'
                ' EXECUTE FUNCTION agentdb.set_null_on_delete(%L, %L, %L)',
                left('agentdb_set_null_' || v_key.constraint_name, 63), v_key.referenced_table,
                v_referencing, v_key.columns[1], v_key.referenced_columns[1]);
        END IF;
        IF v_distributed AND v_key.on_update = 'c' THEN
            EXECUTE format(
                'CREATE TRIGGER %I AFTER UPDATE OR DELETE ON %s FOR EACH ROW'
                ' EXECUTE FUNCTION agentdb.cascade_key_update(%L, %L, %L, %L)',
                left('agentdb_cascade_' || v_key.constraint_name, 63), v_key.referenced_table,
                v_referencing, v_key.columns, v_key.referenced_columns,
                (SELECT format('%I.%I', n.nspname, c.relname)
                   FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.oid = v_key.referenced_table));
        END IF;
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s) ON UPDATE %s ON DELETE %s%s',
                       v_key.table_name, v_key.constraint_name, v_columns, v_key.referenced_table,
                       v_referenced, v_update, v_delete,
                       CASE WHEN v_distributed AND v_key.on_update = 'c' THEN ' DEFERRABLE INITIALLY DEFERRED'
                            WHEN v_key.is_deferred THEN ' DEFERRABLE INITIALLY DEFERRED'
                            WHEN v_key.is_deferrable THEN ' DEFERRABLE' ELSE '' END);
    END LOOP;
END
$$;
