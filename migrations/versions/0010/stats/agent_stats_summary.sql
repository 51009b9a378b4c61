-- agentdb.agent_stats_summary: one row per agent of a user that ran over
-- the UTC days today - p_days .. today, read from agent_execution_stats by
-- its primary key (user_id, date, agent_id) and the user's pending deltas
-- (agentdb.agent_stats_now). Exact; averages weighted by the summed counts.
-- Most active agents first.
CREATE OR REPLACE FUNCTION agentdb.agent_stats_summary(p_user_id uuid, p_days integer DEFAULT 30)
RETURNS TABLE (
    agent_id uuid,
    agent_name text,
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
    total_cost numeric,
    last_run_day date
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
    SELECT s.agent_id,
           a.name::text,
           s.total, s.succeeded, s.failed, s.cancelled,
           round(s.succeeded::numeric / s.total, 4),
           round(s.total_duration_ms::numeric / NULLIF(s.duration_count, 0))::bigint,
           s.min_duration_ms, s.max_duration_ms,
           s.total_tokens, s.total_llm_calls, s.total_cost, s.last_run_day
      FROM (SELECT st.agent_id,
                   sum(st.execution_count)::bigint AS total,
                   sum(st.success_count)::bigint AS succeeded,
                   sum(st.failed_count)::bigint AS failed,
                   sum(st.cancelled_count)::bigint AS cancelled,
                   sum(st.duration_count) AS duration_count,
                   sum(st.total_duration_ms) AS total_duration_ms,
                   min(st.min_duration_ms) AS min_duration_ms,
                   max(st.max_duration_ms) AS max_duration_ms,
                   sum(st.total_tokens)::bigint AS total_tokens,
                   sum(st.total_llm_calls)::bigint AS total_llm_calls,
                   sum(st.total_cost) AS total_cost,
                   max(st.day) FILTER (WHERE st.execution_count > 0) AS last_run_day
              FROM agentdb.agent_stats_now(p_user_id, v_today - p_days, v_today) st
             GROUP BY st.agent_id
            HAVING sum(st.execution_count) > 0) s
      JOIN public.agents a ON a.id = s.agent_id
     ORDER BY s.total DESC, s.agent_id;
END
$$;
COMMENT ON FUNCTION agentdb.agent_stats_summary(uuid, integer) IS
    'One row per agent of a user with runs started over the UTC days today-p_days..today: counts, success_rate, duration avg/min/max, tokens, LLM calls, cost; exact, from agent_execution_stats and the pending deltas';
REVOKE EXECUTE ON FUNCTION agentdb.agent_stats_summary(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.agent_stats_summary(uuid, integer) TO agentdb_app;
