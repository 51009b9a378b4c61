-- agentdb.verify_execution_stats: compare the rollups of the UTC days
-- p_from..p_to with the same aggregation of the raw rows, and return every
-- row that differs (empty when the rollups are exact).
--
-- One statement, one snapshot: a trigger delta commits with its raw write,
-- so a live database verifies exact, never "in flight". A key without raw
-- rows equals a rollup row whose counters are all zero (left behind when
-- every run of a key moved elsewhere). Days pruned by retention differ by
-- design (history is kept), so verify recent days.
CREATE FUNCTION agentdb.verify_execution_stats(p_from date, p_to date)
RETURNS TABLE (stats_table text, user_id uuid, subject_id uuid, day date,
               stored jsonb, expected jsonb)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    c_zero_agent CONSTANT jsonb := '{"execution_count": 0, "success_count": 0, "failed_count": 0,
        "cancelled_count": 0, "duration_count": 0, "total_duration_ms": 0, "min_duration_ms": null,
        "max_duration_ms": null, "avg_duration_ms": null, "total_tokens": 0, "total_llm_calls": 0, "total_cost": 0}';
    c_zero_workflow CONSTANT jsonb := '{"execution_count": 0, "success_count": 0, "failed_count": 0,
        "cancelled_count": 0, "duration_count": 0, "total_duration_ms": 0, "min_duration_ms": null,
        "max_duration_ms": null, "avg_duration_ms": null}';
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'p_from and p_to must be dates, got % and %', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_from > p_to THEN
        RAISE EXCEPTION 'p_from (%) must not be after p_to (%)', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    RETURN QUERY
    WITH raw_agent AS MATERIALIZED (
        SELECT * FROM agentdb.raw_agent_execution_stats(p_from, p_to)
    ), raw_user AS (
        SELECT r.user_id, r.day,
               sum(r.execution_count) AS execution_count, sum(r.success_count) AS success_count,
               sum(r.failed_count) AS failed_count, sum(r.cancelled_count) AS cancelled_count,
               sum(r.duration_count) AS duration_count, sum(r.total_duration_ms) AS total_duration_ms,
               min(r.min_duration_ms) AS min_duration_ms, max(r.max_duration_ms) AS max_duration_ms,
               sum(r.total_tokens) AS total_tokens, sum(r.total_llm_calls) AS total_llm_calls,
               sum(r.total_cost) AS total_cost
          FROM raw_agent r
         GROUP BY r.user_id, r.day
    ), raw_workflow AS (
        SELECT * FROM agentdb.raw_workflow_execution_stats(p_from, p_to)
    ), compared AS (
        SELECT 'agent_execution_stats' AS stats_table,
               coalesce(s.user_id, r.user_id) AS user_id,
               coalesce(s.agent_id, r.agent_id) AS subject_id,
               coalesce(s.date, r.day) AS day,
               CASE WHEN s.user_id IS NULL THEN c_zero_agent ELSE jsonb_build_object(
                   'execution_count', s.execution_count, 'success_count', s.success_count,
                   'failed_count', s.failed_count, 'cancelled_count', s.cancelled_count,
                   'duration_count', s.duration_count, 'total_duration_ms', s.total_duration_ms,
                   'min_duration_ms', s.min_duration_ms, 'max_duration_ms', s.max_duration_ms,
                   'avg_duration_ms', s.avg_duration_ms,
                   'total_tokens', s.total_tokens, 'total_llm_calls', s.total_llm_calls,
                   'total_cost', s.total_cost) END
                   AS stored,
               CASE WHEN r.user_id IS NULL THEN c_zero_agent ELSE jsonb_build_object(
                   'execution_count', r.execution_count, 'success_count', r.success_count,
                   'failed_count', r.failed_count, 'cancelled_count', r.cancelled_count,
                   'duration_count', r.duration_count, 'total_duration_ms', r.total_duration_ms,
                   'min_duration_ms', r.min_duration_ms, 'max_duration_ms', r.max_duration_ms,
                   'avg_duration_ms', CASE WHEN r.duration_count > 0 THEN round(r.total_duration_ms::numeric / r.duration_count) END,
                   'total_tokens', r.total_tokens, 'total_llm_calls', r.total_llm_calls,
                   'total_cost', r.total_cost) END
                   AS expected
          FROM (SELECT * FROM public.agent_execution_stats a
                 WHERE a.date BETWEEN p_from AND p_to) s
          FULL JOIN raw_agent r
            ON r.user_id = s.user_id AND r.day = s.date AND r.agent_id = s.agent_id
        UNION ALL
        SELECT 'user_execution_stats',
               coalesce(s.user_id, r.user_id), NULL::uuid, coalesce(s.date, r.day),
               CASE WHEN s.user_id IS NULL THEN c_zero_agent ELSE jsonb_build_object(
                   'execution_count', s.execution_count, 'success_count', s.success_count,
                   'failed_count', s.failed_count, 'cancelled_count', s.cancelled_count,
                   'duration_count', s.duration_count, 'total_duration_ms', s.total_duration_ms,
                   'min_duration_ms', s.min_duration_ms, 'max_duration_ms', s.max_duration_ms,
                   'avg_duration_ms', s.avg_duration_ms,
                   'total_tokens', s.total_tokens, 'total_llm_calls', s.total_llm_calls,
                   'total_cost', s.total_cost) END,
               CASE WHEN r.user_id IS NULL THEN c_zero_agent ELSE jsonb_build_object(
                   'execution_count', r.execution_count, 'success_count', r.success_count,
                   'failed_count', r.failed_count, 'cancelled_count', r.cancelled_count,
                   'duration_count', r.duration_count, 'total_duration_ms', r.total_duration_ms,
                   'min_duration_ms', r.min_duration_ms, 'max_duration_ms', r.max_duration_ms,
                   'avg_duration_ms', CASE WHEN r.duration_count > 0 THEN round(r.total_duration_ms::numeric / r.duration_count) END,
                   'total_tokens', r.total_tokens, 'total_llm_calls', r.total_llm_calls,
                   'total_cost', r.total_cost) END
          FROM (SELECT * FROM public.user_execution_stats u
                 WHERE u.date BETWEEN p_from AND p_to) s
          FULL JOIN raw_user r ON r.user_id = s.user_id AND r.day = s.date
        UNION ALL
        SELECT 'workflow_execution_stats',
               coalesce(s.user_id, r.user_id), coalesce(s.workflow_id, r.workflow_id),
               coalesce(s.date, r.day),
               CASE WHEN s.user_id IS NULL THEN c_zero_workflow ELSE jsonb_build_object(
                   'execution_count', s.execution_count, 'success_count', s.success_count,
                   'failed_count', s.failed_count, 'cancelled_count', s.cancelled_count,
                   'duration_count', s.duration_count, 'total_duration_ms', s.total_duration_ms,
                   'min_duration_ms', s.min_duration_ms, 'max_duration_ms', s.max_duration_ms,
                   'avg_duration_ms', s.avg_duration_ms) END,
               CASE WHEN r.user_id IS NULL THEN c_zero_workflow ELSE jsonb_build_object(
                   'execution_count', r.execution_count, 'success_count', r.success_count,
                   'failed_count', r.failed_count, 'cancelled_count', r.cancelled_count,
                   'duration_count', r.duration_count, 'total_duration_ms', r.total_duration_ms,
                   'min_duration_ms', r.min_duration_ms, 'max_duration_ms', r.max_duration_ms,
                   'avg_duration_ms', CASE WHEN r.duration_count > 0 THEN round(r.total_duration_ms::numeric / r.duration_count) END) END
          FROM (SELECT * FROM public.workflow_execution_stats w
                 WHERE w.date BETWEEN p_from AND p_to) s
          FULL JOIN raw_workflow r
            ON r.user_id = s.user_id AND r.day = s.date AND r.workflow_id = s.workflow_id
    )
    SELECT c.stats_table, c.user_id, c.subject_id, c.day, c.stored, c.expected
      FROM compared c
     WHERE c.stored IS DISTINCT FROM c.expected
     ORDER BY c.stats_table, c.user_id, c.day, c.subject_id;
END
$$;
COMMENT ON FUNCTION agentdb.verify_execution_stats(date, date) IS
    'Rows of agent/user/workflow execution stats of the UTC days p_from..p_to that differ from aggregating the raw rows (empty when exact), with the stored and expected counters as jsonb';
REVOKE EXECUTE ON FUNCTION agentdb.verify_execution_stats(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.verify_execution_stats(date, date) TO agentdb_admin;
