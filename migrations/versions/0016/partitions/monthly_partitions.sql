-- agentdb.monthly_partitions: the partitions of a table partitioned by RANGE
-- on one timestamp (or timestamptz) column, with their bounds as timestamptz
-- oldest first (a timestamp column's bounds are read as UTC). A bound of
-- MINVALUE or MAXVALUE is NULL; the DEFAULT partition is not listed (it has
-- no bounds, and retention never drops it). Any range
-- partitioning is read: "monthly" is the convention of the callers
-- (partitions named <table>_pYYYY_MM, bounds the first of a month UTC).
-- Empty for a table that is not partitioned.
CREATE OR REPLACE FUNCTION agentdb.monthly_partitions(p_table regclass)
RETURNS TABLE (partition_name regclass, lower_bound timestamptz, upper_bound timestamptz)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT b.partition_name,
           CASE WHEN b.with_zone THEN b.bounds[1]::timestamptz
                ELSE b.bounds[1]::timestamp AT TIME ZONE 'UTC' END,
           CASE WHEN b.with_zone THEN b.bounds[2]::timestamptz
                ELSE b.bounds[2]::timestamp AT TIME ZONE 'UTC' END
      FROM (SELECT c.oid::regclass AS partition_name,
                   (SELECT a.atttypid = 'timestamp with time zone'::regtype
                      FROM pg_catalog.pg_partitioned_table pt
                      JOIN pg_catalog.pg_attribute a
                        ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                     WHERE pt.partrelid = p_table) AS with_zone,
                   pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                       '^FOR VALUES FROM \((?:''([^'']*)''|MINVALUE)\) TO \((?:''([^'']*)''|MAXVALUE)\)$')
                       AS bounds
              FROM pg_catalog.pg_inherits i
              JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = p_table) b
     WHERE b.bounds IS NOT NULL
     ORDER BY 2 NULLS FIRST;
$$;
COMMENT ON FUNCTION agentdb.monthly_partitions(regclass) IS
    'Partitions of a table range-partitioned on one timestamp column, with their lower and upper bounds (timestamptz, UTC; NULL for MINVALUE/MAXVALUE), oldest first';
REVOKE EXECUTE ON FUNCTION agentdb.monthly_partitions(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.monthly_partitions(regclass) TO agentdb_admin;
