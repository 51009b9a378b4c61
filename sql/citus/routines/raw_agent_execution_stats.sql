-- Citus variant (pyglue install --citus) of sql/stats/raw_agent_execution_stats.sql:
-- metrics join their execution on user_id too, the distribution column of
-- both tables, so Citus joins them shard by shard; with user_id in the
-- GROUP BY, the aggregation runs on every shard and the coordinator only
-- appends the results. Same rows as on a single node.
--
-- agentdb.raw_agent_execution_stats: the agent_execution_stats rollup rows of [p_from, p_to] as the raw rows give
-- them now, one row per (user, UTC start day, agent_id). The single definition
-- of "expected" that refresh_execution_stats writes and verify_execution_stats
-- compares against, so the two can never disagree. PL/pgSQL, not SQL: a
-- distributed PostgreSQL (Citus) does not push SQL functions with parameters
-- down to the shards.
CREATE OR REPLACE FUNCTION agentdb.raw_agent_execution_stats(p_from date, p_to date)
RETURNS TABLE (
    user_id uuid, day date, agent_id uuid,
    execution_count bigint, success_count bigint, failed_count bigint, cancelled_count bigint,
    duration_count bigint, total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer,
    total_tokens bigint, total_llm_calls bigint, total_cost numeric
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT e.user_id, e.started_at::date AS day, e.agent_id,
               count(*) AS execution_count,
               count(*) FILTER (WHERE e.status = 'completed') AS success_count,
               count(*) FILTER (WHERE e.status = 'failed') AS failed_count,
               count(*) FILTER (WHERE e.status = 'cancelled') AS cancelled_count,
               count(e.duration_ms) AS duration_count,
               coalesce(sum(e.duration_ms), 0) AS total_duration_ms,
               min(e.duration_ms) AS min_duration_ms,
               max(e.duration_ms) AS max_duration_ms,
               coalesce(sum(m.total_tokens), 0) AS total_tokens,
               coalesce(sum(m.llm_call_count), 0) AS total_llm_calls,
               coalesce(sum(m.cost), 0) AS total_cost
          FROM public.agent_executions e
          -- a metrics row shares its run's started_at (0016): the range, spelled
          -- on both sides, prunes both tables to the months of [p_from, p_to]
          LEFT JOIN public.execution_metrics m
            ON m.user_id = e.user_id AND m.execution_id = e.id AND m.started_at = e.started_at
           AND m.started_at >= p_from AND m.started_at < p_to + 1
         WHERE e.started_at >= p_from AND e.started_at < p_to + 1
         GROUP BY e.user_id, e.started_at::date, e.agent_id;
END
$$;
COMMENT ON FUNCTION agentdb.raw_agent_execution_stats(date, date) IS
    'The agent_execution_stats rollup rows of [p_from, p_to] computed from the raw rows that exist now';
REVOKE EXECUTE ON FUNCTION agentdb.raw_agent_execution_stats(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.raw_agent_execution_stats(date, date) TO agentdb_admin;
