-- agentdb.user_dashboard: a user's dashboard totals over the UTC days
-- today - p_days .. today, read from user_execution_stats (at most
-- p_days + 1 rows of the primary key (user_id, date)) plus the user's
-- pending deltas (agentdb.user_stats_now), never from agent_executions.
-- Exact at every snapshot: sums of exact counters; success_rate and
-- avg_duration_ms are computed from the summed counts (weighted, never an
-- average of daily averages). "Today" is the UTC date, whatever the
-- session's TimeZone.
CREATE OR REPLACE FUNCTION agentdb.user_dashboard(p_user_id uuid, p_days integer DEFAULT 30)
RETURNS TABLE (
    period_start date,
    period_end date,
    total bigint,
    succeeded bigint,
    failed bigint,
    cancelled bigint,
    success_rate numeric,
    avg_duration_ms bigint,
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
DECLARE
    v_today date := (timezone('utc', now()))::date;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'p_user_id must be a user id, got NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_days IS NULL OR p_days < 1 OR p_days > 3660 THEN
        RAISE EXCEPTION 'p_days must be between 1 and 3660, got %', coalesce(p_days::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    SELECT v_today - p_days,
           v_today,
           coalesce(sum(s.execution_count), 0)::bigint,
           coalesce(sum(s.success_count), 0)::bigint,
           coalesce(sum(s.failed_count), 0)::bigint,
           coalesce(sum(s.cancelled_count), 0)::bigint,
           round(sum(s.success_count) / NULLIF(sum(s.execution_count), 0), 4),
           round(sum(s.total_duration_ms) / NULLIF(sum(s.duration_count), 0))::bigint,
           coalesce(sum(s.total_tokens), 0)::bigint,
           coalesce(sum(s.total_llm_calls), 0)::bigint,
           coalesce(sum(s.total_cost), 0)
      FROM agentdb.user_stats_now(p_user_id, v_today - p_days, v_today) s;
END
$$;
COMMENT ON FUNCTION agentdb.user_dashboard(uuid, integer) IS
    'One row: a user''s agent executions started over the UTC days today-p_days..today (total, succeeded, failed, cancelled, success_rate, avg_duration_ms, tokens, LLM calls, cost), exact, from user_execution_stats and the pending deltas';
REVOKE EXECUTE ON FUNCTION agentdb.user_dashboard(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.user_dashboard(uuid, integer) TO agentdb_app;
