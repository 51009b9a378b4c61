-- agentdb.user_stats_now: a user's user_execution_stats rows of the UTC days
-- p_from..p_to as of the caller's snapshot: the rollup rows plus the user's
-- pending agent deltas, one row per day with runs. Same reads and the same
-- exactness as agentdb.agent_stats_now; a day with a pending
-- duration_removed mark takes its min/max from the user's raw rows of that
-- day (index range scan), no other day reads the raw tables.
--
-- enable_seqscan is off inside: the delta table is a queue, so its
-- statistics are nearly always those of an empty table (analyzed just after
-- a fold), and a session's cached generic plan then seq-scanned every page
-- of it, dead rows of folded deltas included, on every read (seen in the
-- stats-writes bench under 16 writers, revision 0019 sets it). Every scan
-- here has an index on (user_id, date) to use.
CREATE OR REPLACE FUNCTION agentdb.user_stats_now(p_user_id uuid, p_from date, p_to date)
RETURNS TABLE (
    user_id uuid, day date,
    execution_count bigint, success_count bigint, failed_count bigint, cancelled_count bigint,
    duration_count bigint, total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer,
    total_tokens bigint, total_llm_calls bigint, total_cost numeric
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH pending AS (
        SELECT d.date,
               sum(d.execution_count)::bigint AS execution_count,
               sum(d.success_count)::bigint AS success_count,
               sum(d.failed_count)::bigint AS failed_count,
               sum(d.cancelled_count)::bigint AS cancelled_count,
               sum(d.duration_count)::bigint AS duration_count,
               sum(d.total_duration_ms)::bigint AS total_duration_ms,
               sum(d.total_tokens)::bigint AS total_tokens,
               sum(d.total_llm_calls)::bigint AS total_llm_calls,
               sum(d.total_cost) AS total_cost,
               min(d.added_duration_ms) AS min_duration_ms, max(d.added_duration_ms) AS max_duration_ms,
               bool_or(d.duration_removed) AS duration_removed
          FROM agentdb.agent_stats_deltas d
         WHERE d.user_id = p_user_id AND d.date BETWEEN p_from AND p_to
         GROUP BY d.date
    )
    SELECT p_user_id, coalesce(s.date, p.date),
           coalesce(s.execution_count, 0) + coalesce(p.execution_count, 0),
           coalesce(s.success_count, 0) + coalesce(p.success_count, 0),
           coalesce(s.failed_count, 0) + coalesce(p.failed_count, 0),
           coalesce(s.cancelled_count, 0) + coalesce(p.cancelled_count, 0),
           coalesce(s.duration_count, 0) + coalesce(p.duration_count, 0),
           coalesce(s.total_duration_ms, 0) + coalesce(p.total_duration_ms, 0),
           CASE WHEN p.duration_removed THEN r.min_duration_ms
                ELSE least(s.min_duration_ms, p.min_duration_ms) END,
           CASE WHEN p.duration_removed THEN r.max_duration_ms
                ELSE greatest(s.max_duration_ms, p.max_duration_ms) END,
           coalesce(s.total_tokens, 0) + coalesce(p.total_tokens, 0),
           coalesce(s.total_llm_calls, 0) + coalesce(p.total_llm_calls, 0),
           coalesce(s.total_cost, 0) + coalesce(p.total_cost, 0)
      FROM (SELECT * FROM public.user_execution_stats x
             WHERE x.user_id = p_user_id AND x.date BETWEEN p_from AND p_to) s
      FULL JOIN pending p ON p.date = s.date
      LEFT JOIN LATERAL (
          SELECT min(e.duration_ms) AS min_duration_ms, max(e.duration_ms) AS max_duration_ms
            FROM public.agent_executions e
           WHERE p.duration_removed
             AND e.user_id = p_user_id
             AND e.started_at >= p.date AND e.started_at < p.date + 1) r ON true;
END
$$;
COMMENT ON FUNCTION agentdb.user_stats_now(uuid, date, date) IS
    'A user''s user_execution_stats rows of the UTC days p_from..p_to with the pending deltas added: exact at the caller''s snapshot';
REVOKE EXECUTE ON FUNCTION agentdb.user_stats_now(uuid, date, date) FROM PUBLIC;
