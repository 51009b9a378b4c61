-- agentdb.user_daily_stats: one row per UTC day p_from..p_to for a user,
-- days without runs included (zero counts, NULL averages), read from
-- user_execution_stats. Exact; averages weighted by the day's counts.
CREATE FUNCTION agentdb.user_daily_stats(p_user_id uuid, p_from date, p_to date)
RETURNS TABLE (
    day date,
    total bigint,
    succeeded bigint,
    failed bigint,
    cancelled bigint,
    success_rate numeric,
    avg_duration_ms bigint,
    min_duration_ms integer,
    max_duration_ms integer,
    total_tokens bigint,
    total_llm_calls bigint,
    total_cost numeric
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'p_user_id must be a user id, got NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'p_from and p_to must be dates, got % and %',
            coalesce(p_from::text, 'NULL'), coalesce(p_to::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_from > p_to THEN
        RAISE EXCEPTION 'p_from (%) must not be after p_to (%)', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to - p_from > 3660 THEN
        RAISE EXCEPTION 'p_from..p_to must span at most 3661 days, got % days', p_to - p_from + 1
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT d.day,
           coalesce(s.execution_count, 0),
           coalesce(s.success_count, 0),
           coalesce(s.failed_count, 0),
           coalesce(s.cancelled_count, 0),
           CASE WHEN s.execution_count > 0
                THEN round(s.success_count::numeric / s.execution_count, 4) END,
           CASE WHEN s.duration_count > 0
                THEN round(s.total_duration_ms::numeric / s.duration_count)::bigint END,
           s.min_duration_ms,
           s.max_duration_ms,
           coalesce(s.total_tokens, 0),
           coalesce(s.total_llm_calls, 0),
           coalesce(s.total_cost, 0)::numeric
      FROM generate_series(p_from, p_to, interval '1 day') AS g(ts)
     CROSS JOIN LATERAL (SELECT g.ts::date AS day) d
      LEFT JOIN public.user_execution_stats s
        ON s.user_id = p_user_id AND s.date = d.day
     ORDER BY d.day;
END
$$;
COMMENT ON FUNCTION agentdb.user_daily_stats(uuid, date, date) IS
    'One row per UTC day p_from..p_to (days without runs included) of a user''s agent executions: counts, success_rate, duration avg/min/max, tokens, LLM calls, cost; exact, from user_execution_stats';
REVOKE EXECUTE ON FUNCTION agentdb.user_daily_stats(uuid, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.user_daily_stats(uuid, date, date) TO agentdb_app;
