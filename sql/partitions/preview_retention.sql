-- agentdb.preview_retention: what retention would drop now, one row per
-- table: every enabled policy's table (nothing to drop: an empty list), and
-- any table that loses partitions because it references an expiring one
-- (keep and cutoff NULL when it has no policy of its own). cutoff is the
-- upper bound a partition must not exceed to be dropped: the earlier of
-- now() - keep and the first of the current month (UTC). rows_to_drop is
-- counted (count(*) of each partition), bytes_to_drop is
-- pg_total_relation_size. Changes nothing; SECURITY DEFINER, to count rows
-- agentdb_admin may not read.
CREATE FUNCTION agentdb.preview_retention()
RETURNS TABLE (table_name regclass, keep interval, cutoff timestamptz, partitions text[],
               rows_to_drop bigint, bytes_to_drop bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_table record;
    v_part record;
    v_rows bigint;
BEGIN
    FOR v_table IN
        SELECT t.table_name, p.keep
          FROM (SELECT r.table_name FROM agentdb.retention_policies r WHERE r.enabled
                UNION
                SELECT e.table_name FROM agentdb.expired_partitions(now()) e) t
          LEFT JOIN agentdb.retention_policies p ON p.table_name = t.table_name AND p.enabled
         ORDER BY t.table_name::text
    LOOP
        table_name := v_table.table_name;
        keep := v_table.keep;
        cutoff := CASE WHEN v_table.keep IS NOT NULL
                       THEN least(now() - v_table.keep, date_trunc('month', now(), 'UTC')) END;
        partitions := '{}';
        rows_to_drop := 0;
        bytes_to_drop := 0;
        FOR v_part IN SELECT e.partition_name FROM agentdb.expired_partitions(now()) e
                       WHERE e.table_name = v_table.table_name
                       ORDER BY e.lower_bound, e.partition_name::text
        LOOP
            EXECUTE format('SELECT count(*) FROM %s', v_part.partition_name) INTO v_rows;
            partitions := partitions || v_part.partition_name::text;
            rows_to_drop := rows_to_drop + v_rows;
            bytes_to_drop := bytes_to_drop + pg_total_relation_size(v_part.partition_name);
        END LOOP;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agentdb.preview_retention() IS
    'What retention would drop now, per table: its keep, the cutoff, the partitions, their rows (counted) and bytes; changes nothing';
REVOKE EXECUTE ON FUNCTION agentdb.preview_retention() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.preview_retention() TO agentdb_admin;
