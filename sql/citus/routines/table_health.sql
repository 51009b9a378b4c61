-- Citus variant (pyglue install --citus) of sql/monitoring/table_health.sql:
-- the same rows; a distributed or reference table's total_bytes is its size
-- over all its shards (citus_total_relation_size: every placement, indexes
-- included) instead of the coordinator's empty shell. Rows, dead tuples and
-- scans are still the coordinator's statistics views, which do not see the
-- shards (0 for a distributed table), and an index's size is the
-- coordinator's copy (the shards' indexes are counted in the table's size).
--
-- agentdb.table_health: one row per user table, then one per index of it,
-- from the statistics views: rows, dead tuples, size, scans, last vacuum and
-- analyze. An index never scanned since the statistics were last reset, and
-- not enforcing a constraint (unique, primary key, exclusion), is marked
-- unused: a candidate to drop, after checking the reset time is not recent.
-- Granted to agentdb_app too: it shows nothing a role cannot already read in
-- pg_stat_user_tables / pg_stat_user_indexes, and an app's health endpoint
-- may want it. SECURITY INVOKER.
CREATE OR REPLACE FUNCTION agentdb.table_health()
RETURNS TABLE (
    kind text,
    schema_name text,
    table_name text,
    index_name text,
    live_rows bigint,
    dead_rows bigint,
    dead_percent numeric,
    total_bytes bigint,
    seq_scans bigint,
    index_scans bigint,
    last_vacuum timestamptz,
    last_analyze timestamptz,
    is_unique boolean,
    unused boolean
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.kind, h.schema_name, h.table_name, h.index_name, h.live_rows, h.dead_rows,
           h.dead_percent, h.total_bytes, h.seq_scans, h.index_scans, h.last_vacuum,
           h.last_analyze, h.is_unique, h.unused
      FROM (
        SELECT 'table'::text AS kind,
               t.schemaname::text AS schema_name,
               t.relname::text AS table_name,
               NULL::text AS index_name,
               t.n_live_tup AS live_rows,
               t.n_dead_tup AS dead_rows,
               round(100.0 * t.n_dead_tup / nullif(t.n_live_tup + t.n_dead_tup, 0), 1) AS dead_percent,
               CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = t.relid)
                    THEN citus_total_relation_size(t.relid)
                    ELSE pg_catalog.pg_total_relation_size(t.relid) END AS total_bytes,
               t.seq_scan AS seq_scans,
               t.idx_scan AS index_scans,
               greatest(t.last_vacuum, t.last_autovacuum) AS last_vacuum,
               greatest(t.last_analyze, t.last_autoanalyze) AS last_analyze,
               NULL::boolean AS is_unique,
               NULL::boolean AS unused,
               0 AS sort_kind
          FROM pg_catalog.pg_stat_user_tables t
        UNION ALL
        SELECT 'index',
               s.schemaname::text,
               s.relname::text,
               s.indexrelname::text,
               NULL, NULL, NULL,
               pg_catalog.pg_relation_size(s.indexrelid),
               NULL,
               s.idx_scan,
               NULL, NULL,
               i.indisunique,
               s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion,
               1
          FROM pg_catalog.pg_stat_user_indexes s
          JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
      ) h
     ORDER BY h.schema_name, h.table_name, h.sort_kind, h.index_name;
$$;
COMMENT ON FUNCTION agentdb.table_health() IS
    'Citus (table sizes over all shards): per user table (rows, dead tuples, size, scans, last vacuum/analyze) and per index (size, scans, unused when never scanned and enforcing no constraint)';
