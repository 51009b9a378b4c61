-- agentdb.expired_partitions: the partitions retention drops at p_at, with
-- the order to drop them in.
--
-- A partition of an enabled policy's table expires when its upper bound is
-- at or before both p_at - keep and the first of p_at's month (UTC): the
-- partition holding the current month, and any later one, is never listed.
-- A partitioned table with a foreign key to an expiring partition's table
-- (execution_metrics -> agent_executions) loses its partitions lying within
-- the expiring one's bounds too, whatever its own policy says (ON DELETE
-- CASCADE would have deleted those rows with their parents), and so on down
-- the chain of foreign keys. drop_rank orders a month's drops: the number of
-- partitioned tables that reference the table, directly or not, so children
-- (rank 0) go first; a referenced partition (rank > 0) must be DETACHed
-- before its DROP (PostgreSQL keeps the foreign key depending on it). A
-- partition from MINVALUE (the table 0016 adopted as it was) expires by its
-- upper bound like any month.
CREATE OR REPLACE FUNCTION agentdb.expired_partitions(p_at timestamptz DEFAULT now())
RETURNS TABLE (table_name regclass, partition_name regclass, lower_bound timestamptz,
               upper_bound timestamptz, drop_rank integer, reason text)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE fk AS (
        -- a partitioned table referencing another one (the constraint on its parent)
        SELECT DISTINCT k.conrelid AS child, k.confrelid AS parent
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_partitioned_table pc ON pc.partrelid = k.conrelid
          JOIN pg_catalog.pg_partitioned_table pp ON pp.partrelid = k.confrelid
         WHERE k.contype = 'f' AND k.conparentid = 0 AND k.conrelid <> k.confrelid
    ), referencing (target, source) AS (
        SELECT fk.parent, fk.child FROM fk
        UNION
        SELECT r.target, fk.child FROM referencing r JOIN fk ON fk.parent = r.source
    ), expiring AS (
        SELECT p.table_name, m.partition_name, m.lower_bound, m.upper_bound,
               'older than ' || p.keep::text AS reason
          FROM agentdb.retention_policies p
         CROSS JOIN LATERAL agentdb.monthly_partitions(p.table_name) m
         WHERE p.enabled
           AND m.upper_bound <= p_at - p.keep
           AND m.upper_bound <= pg_catalog.date_trunc('month', p_at, 'UTC')
        UNION
        SELECT fk.child::regclass, m.partition_name, m.lower_bound, m.upper_bound,
               'references ' || e.partition_name::text
          FROM expiring e
          JOIN fk ON fk.parent = e.table_name
         CROSS JOIN LATERAL agentdb.monthly_partitions(fk.child::regclass) m
         WHERE coalesce(m.lower_bound, '-infinity') >= coalesce(e.lower_bound, '-infinity')
           AND m.upper_bound <= e.upper_bound
    )
    SELECT DISTINCT ON (e.partition_name)
           e.table_name, e.partition_name, e.lower_bound, e.upper_bound,
           (SELECT pg_catalog.count(DISTINCT r.source)::integer
              FROM referencing r WHERE r.target = e.table_name AND r.source <> e.table_name),
           e.reason
      FROM expiring e
     ORDER BY e.partition_name, e.reason LIKE 'references %', e.reason;
$$;
COMMENT ON FUNCTION agentdb.expired_partitions(timestamptz) IS
    'Partitions retention drops at p_at: those of enabled retention_policies older than keep (never the current month or a later one) and the partitions of tables referencing them by foreign key within their bounds; drop_rank orders a month''s drops (referencing tables first)';
REVOKE EXECUTE ON FUNCTION agentdb.expired_partitions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.expired_partitions(timestamptz) TO agentdb_admin;
