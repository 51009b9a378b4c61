-- Citus conversion, step 3 (pyglue install --citus): users and
-- agentdb.memory_policies become reference tables (a copy on every node:
-- every shard can join them, and users.email stays UNIQUE as a plain
-- constraint); every table composite_keys.sql listed is distributed by
-- user_id, all in one co-location group with public.agents, so a user's
-- rows of every table live on the same node and a statement scoped by
-- user_id runs there whole (joins, foreign keys, triggers). A partitioned
-- table is distributed with its partitions; partitions created later
-- (agentdb.create_partitions_ahead) are distributed by Citus as they are
-- attached. Existing rows are copied into the shards.
--
-- The stats triggers stay (citus.enable_unsafe_triggers): they run on the
-- shard beside the row they watch and touch only that user's rows, which
-- live on the same node.
DO $$
DECLARE
    v_table regclass;
BEGIN
    FOR v_table IN
        SELECT t.table_name FROM agentdb_citus_tables t WHERE t.reference ORDER BY t.table_name::text
    LOOP
        PERFORM create_reference_table(v_table);
    END LOOP;
    PERFORM create_distributed_table('public.agents', 'user_id');
    FOR v_table IN
        SELECT t.table_name FROM agentdb_citus_tables t
         WHERE NOT t.reference AND t.table_name <> 'public.agents'::regclass
         ORDER BY t.table_name::text
    LOOP
        PERFORM create_distributed_table(v_table, 'user_id', colocate_with => 'public.agents');
    END LOOP;
END
$$;
