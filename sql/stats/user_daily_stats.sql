-- agentdb.user_daily_stats: one row per UTC day p_from..p_to for a user,
-- days without runs included (zero counts, NULL averages), read from
-- user_execution_stats and the pending deltas (agentdb.user_stats_now).
-- Exact; averages weighted by the day's counts. The days are p_from + n:
-- generate_series over dates would resolve to its timestamptz form, and in
-- a zone whose DST change falls at midnight (America/Santiago) skip a day.
CREATE OR REPLACE FUNCTION agentdb.user_daily_stats(p_user_id uuid, p_from date, p_to date)
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
    IF NOT isfinite(p_from) OR NOT isfinite(p_to) THEN
        RAISE EXCEPTION 'p_from and p_to must be finite dates, got % and %', p_from, p_to
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
           round(s.success_count::numeric / NULLIF(s.execution_count, 0), 4),
           round(s.total_duration_ms::numeric / NULLIF(s.duration_count, 0))::bigint,
           s.min_duration_ms,
           s.max_duration_ms,
           coalesce(s.total_tokens, 0),
           coalesce(s.total_llm_calls, 0),
           coalesce(s.total_cost, 0)::numeric
      FROM generate_series(0, p_to - p_from) AS g(n)
     CROSS JOIN LATERAL (SELECT p_from + g.n AS day) d
      LEFT JOIN agentdb.user_stats_now(p_user_id, p_from, p_to) s ON s.day = d.day
     ORDER BY d.day;
END
$$;
COMMENT ON FUNCTION agentdb.user_daily_stats(uuid, date, date) IS
    'One row per UTC day p_from..p_to (days without runs included) of a user''s agent executions: counts, success_rate, duration avg/min/max, tokens, LLM calls, cost; exact, from user_execution_stats and the pending deltas';
REVOKE EXECUTE ON FUNCTION agentdb.user_daily_stats(uuid, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.user_daily_stats(uuid, date, date) TO agentdb_app;
