-- Citus variant (pyglue install --citus) of sql/stats/verify_execution_stats.sql:
-- the same rows. Citus cannot plan the single-node statement (a correlated
-- subquery beside the users reference table, and the *_stats_now functions
-- called per row of a table would run on a shard, where they cannot reach
-- the other shards). Here the distributed tables are read by their own
-- statements first (the user, agent and workflow ids; the rollup rows whose
-- avg_duration_ms is checked), and the comparison is one statement over
-- those values and the set-returning functions, which Citus leaves to the
-- coordinator: each function call runs its own statements, scoped to one
-- user (agentdb.*_stats_now) or pushed down to every shard
-- (agentdb.raw_*_execution_stats). In one transaction at READ COMMITTED the
-- statements see different snapshots: verify a day while writers are idle
-- (the nightly check verifies yesterday) or in a REPEATABLE READ
-- transaction; Citus gives no snapshot across nodes anyway.
--
-- agentdb.verify_execution_stats: compare the rollups of the UTC days
-- p_from..p_to with the same aggregation of the raw rows, and return every
-- row that differs (empty when the rollups are exact).
--
-- Stored means the rollup rows plus the pending deltas (agentdb.*_stats_now,
-- per user), as every read sees them. One statement, one snapshot: a delta
-- commits with its raw write and a fold moves deltas in one transaction, so
-- a live database verifies exact, never "in flight". Rollup rows whose
-- avg_duration_ms column disagrees with their sums are reported too
-- (stored/expected hold that column alone). A key without raw
-- rows equals a rollup row whose counters are all zero (left behind when
-- every run of a key moved elsewhere). Days before agentdb.retention_horizon()
-- (months retention dropped: the rollups keep their history, the raw rows
-- are gone) are not compared: p_from is raised to the horizon, and a range
-- wholly before it returns no row.
CREATE OR REPLACE FUNCTION agentdb.verify_execution_stats(p_from date, p_to date)
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
        "max_duration_ms": null, "avg_duration_ms": null, "total_tokens": 0, "total_llm_calls": 0, "total_cost": 0}'::jsonb;
    c_zero_workflow CONSTANT jsonb := '{"execution_count": 0, "success_count": 0, "failed_count": 0,
        "cancelled_count": 0, "duration_count": 0, "total_duration_ms": 0, "min_duration_ms": null,
        "max_duration_ms": null, "avg_duration_ms": null}'::jsonb;
    v_horizon date;
    v_users uuid[];
    v_agents uuid[];
    v_workflows uuid[];
    v_averages jsonb;
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'p_from and p_to must be dates, got % and %', p_from, p_to
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
    -- the days retention dropped have no raw rows left: not drift
    v_horizon := agentdb.retention_horizon();
    IF v_horizon IS NOT NULL AND p_from < v_horizon THEN
        p_from := v_horizon;
        IF p_from > p_to THEN
            RETURN;
        END IF;
    END IF;

    v_users := ARRAY(SELECT u.id FROM public.users u);
    v_agents := ARRAY(SELECT a.id FROM public.agents a);
    v_workflows := ARRAY(SELECT w.id FROM public.workflows w);
    -- the stored averages next to the ones their sums give
    SELECT coalesce(jsonb_agg(x), '[]') INTO v_averages
      FROM (SELECT 'agent_execution_stats' AS stats_table, a.user_id, a.agent_id AS subject_id, a.date AS day,
                   a.avg_duration_ms AS stored,
                   round(a.total_duration_ms::numeric / NULLIF(a.duration_count, 0)) AS expected
              FROM public.agent_execution_stats a WHERE a.date BETWEEN p_from AND p_to
            UNION ALL
            SELECT 'user_execution_stats', u.user_id, NULL::uuid, u.date, u.avg_duration_ms,
                   round(u.total_duration_ms::numeric / NULLIF(u.duration_count, 0))
              FROM public.user_execution_stats u WHERE u.date BETWEEN p_from AND p_to
            UNION ALL
            SELECT 'workflow_execution_stats', w.user_id, w.workflow_id, w.date, w.avg_duration_ms,
                   round(w.total_duration_ms::numeric / NULLIF(w.duration_count, 0))
              FROM public.workflow_execution_stats w WHERE w.date BETWEEN p_from AND p_to) x;

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
                   'avg_duration_ms', round(r.total_duration_ms::numeric / NULLIF(r.duration_count, 0)),
                   'total_tokens', r.total_tokens, 'total_llm_calls', r.total_llm_calls,
                   'total_cost', r.total_cost) END
                   AS expected
          FROM (SELECT n.*, n.day AS date,
                       round(n.total_duration_ms::numeric / NULLIF(n.duration_count, 0))::bigint AS avg_duration_ms
                  FROM unnest(v_users) AS u (id)
                 CROSS JOIN LATERAL agentdb.agent_stats_now(u.id, p_from, p_to) n
                 WHERE n.agent_id = ANY (v_agents)) s
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
                   'avg_duration_ms', round(r.total_duration_ms::numeric / NULLIF(r.duration_count, 0)),
                   'total_tokens', r.total_tokens, 'total_llm_calls', r.total_llm_calls,
                   'total_cost', r.total_cost) END
          FROM (SELECT n.*, n.day AS date,
                       round(n.total_duration_ms::numeric / NULLIF(n.duration_count, 0))::bigint AS avg_duration_ms
                  FROM unnest(v_users) AS u (id)
                 CROSS JOIN LATERAL agentdb.user_stats_now(u.id, p_from, p_to) n) s
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
                   'avg_duration_ms', round(r.total_duration_ms::numeric / NULLIF(r.duration_count, 0))) END
          FROM (SELECT n.*, n.day AS date,
                       round(n.total_duration_ms::numeric / NULLIF(n.duration_count, 0))::bigint AS avg_duration_ms
                  FROM unnest(v_users) AS u (id)
                 CROSS JOIN LATERAL agentdb.workflow_stats_now(u.id, p_from, p_to) n
                 WHERE n.workflow_id = ANY (v_workflows)) s
          FULL JOIN raw_workflow r
            ON r.user_id = s.user_id AND r.day = s.date AND r.workflow_id = s.workflow_id
        UNION ALL
        SELECT x.stats_table, x.user_id, x.subject_id, x.day,
               jsonb_build_object('avg_duration_ms', x.stored),
               jsonb_build_object('avg_duration_ms', x.expected)
          FROM jsonb_to_recordset(v_averages)
               AS x (stats_table text, user_id uuid, subject_id uuid, day date, stored bigint, expected numeric)
    )
    SELECT c.stats_table, c.user_id, c.subject_id, c.day, c.stored, c.expected
      FROM compared c
     WHERE c.stored IS DISTINCT FROM c.expected
     ORDER BY c.stats_table, c.user_id, c.day, c.subject_id;
END
$$;
COMMENT ON FUNCTION agentdb.verify_execution_stats(date, date) IS
    'Citus: Rows of agent/user/workflow execution stats of the UTC days p_from..p_to (from the retention horizon on) that differ from aggregating the raw rows (rollups plus pending deltas; empty when exact), with the stored and expected counters as jsonb';
REVOKE EXECUTE ON FUNCTION agentdb.verify_execution_stats(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.verify_execution_stats(date, date) TO agentdb_admin;
