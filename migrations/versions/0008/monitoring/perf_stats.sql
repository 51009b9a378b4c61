-- agentdb.perf_stats: the top statements of this database by total execution
-- time, from pg_stat_statements, for DBAs. The extension is optional (and
-- may live in any schema), so the view is reached through dynamic SQL: this
-- function compiles and runs without it, and says so in a NOTICE.
-- SECURITY DEFINER so that agentdb_admin sees every role's statements (the
-- view hides other roles' query texts from non-superusers); for the same
-- reason it is not granted to agentdb_app: the texts of other roles'
-- statements are not an app's business (the app has its own per-statement
-- numbers in-process, from pyglue.monitoring).
CREATE FUNCTION agentdb.perf_stats(p_limit integer DEFAULT 20)
RETURNS TABLE (
    queryid bigint,
    role_name text,
    calls bigint,
    total_exec_ms double precision,
    mean_exec_ms double precision,
    max_exec_ms double precision,
    rows bigint,
    shared_blks_hit bigint,
    shared_blks_read bigint,
    hit_percent numeric,
    query text
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_schema name;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        RAISE EXCEPTION 'p_limit must be an integer between 1 and 1000, not %', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname INTO v_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_stat_statements';
    IF NOT FOUND THEN
        RAISE NOTICE 'pg_stat_statements is not installed in database %: no statement statistics (CREATE EXTENSION pg_stat_statements; it must also be in shared_preload_libraries)',
            current_database();
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY EXECUTE format(
            $q$
            SELECT s.queryid,
                   pg_catalog.pg_get_userbyid(s.userid)::text,
                   s.calls,
                   s.total_exec_time,
                   s.mean_exec_time,
                   s.max_exec_time,
                   s.rows,
                   s.shared_blks_hit,
                   s.shared_blks_read,
                   round(100.0 * s.shared_blks_hit
                         / nullif(s.shared_blks_hit + s.shared_blks_read, 0), 1),
                   s.query
              FROM %I.pg_stat_statements s
             WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
                              WHERE d.datname = pg_catalog.current_database())
             ORDER BY s.total_exec_time DESC, s.queryid
             LIMIT $1
            $q$, v_schema)
        USING p_limit;
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        -- installed but not preloaded: the view refuses to answer
        RAISE NOTICE 'pg_stat_statements is installed in database % but not loaded: add it to shared_preload_libraries and restart the server',
            current_database();
    END;
END
$$;
COMMENT ON FUNCTION agentdb.perf_stats(integer) IS
    'Top p_limit (1..1000) statements of this database by total execution time from pg_stat_statements; a NOTICE and no rows without the extension';
REVOKE EXECUTE ON FUNCTION agentdb.perf_stats(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.perf_stats(integer) TO agentdb_admin;
