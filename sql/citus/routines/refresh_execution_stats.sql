-- Citus variant (pyglue install --citus) of sql/stats/refresh_execution_stats.sql:
-- the same rebuild and counts. The single-node statement joins a rollup
-- with the raw aggregation in modifying CTEs; on Citus the raw aggregation
-- (pushed down to every shard by agentdb.raw_*_execution_stats) is read
-- into a value first, then each rollup is one multi-shard DELETE of the keys
-- not in it and one INSERT .. ON CONFLICT of its rows (Citus routes each row
-- to its user's shard; its rows written are counted from RETURNING, as
-- Citus's row count is the rows sent, not those changed). Keys are compared as text built from immutable
-- casts only (uuid, day number): Citus sends a multi-shard DELETE's
-- expressions to the shards, and refuses STABLE ones there. The LOCK TABLE reaches every shard of the raw
-- tables, so writers wait as on a single node.
--
-- agentdb.refresh_execution_stats: rebuild the rollups of the UTC days
-- p_from..p_to from the raw rows, for adoption on an existing database
-- (the migration backfills history with it, a month per call) and for repair.
--
-- Idempotent: rows already equal to the raw aggregation are not written
-- (a second call reports 0 rows written); rows whose key has no raw rows
-- left are deleted. The result then reflects only the raw rows that still
-- exist: a day before agentdb.retention_horizon() (months retention
-- dropped) is refused, since rebuilding it would erase the history the
-- rollups keep (SQLSTATE 22023, naming the horizon).
-- It takes the fold lock (waiting for a fold in flight), then locks the raw
-- tables SHARE ROW EXCLUSIVE for the transaction: writers wait (they cannot
-- slip a delta between the raw read and the rewrite) and two refreshes run
-- one after the other. The pending deltas of the range are then all in the
-- raw rows it reads, so it deletes them. Refresh a short range at a time on
-- a live database.
CREATE OR REPLACE FUNCTION agentdb.refresh_execution_stats(p_from date, p_to date)
RETURNS TABLE (stats_table text, rows_deleted bigint, rows_written bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deleted bigint;
    v_written bigint;
    v_horizon date;
    v_fresh jsonb;
    v_keys text[];
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RAISE EXCEPTION 'p_from and p_to must be dates, got % and %', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_from > p_to THEN
        RAISE EXCEPTION 'p_from (%) must not be after p_to (%)', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF NOT isfinite(p_from) OR NOT isfinite(p_to) THEN
        RAISE EXCEPTION 'p_from and p_to must be finite dates, got % and %', p_from, p_to
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    v_horizon := agentdb.retention_horizon();
    IF v_horizon IS NOT NULL AND p_from < v_horizon THEN
        RAISE EXCEPTION 'p_from (%) is before the retention horizon %: the raw rows of those days were dropped, and a rebuild would erase the history their rollups keep',
            p_from, v_horizon
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Refresh from the horizon on (agentdb.retention_horizon()).';
    END IF;

    PERFORM pg_advisory_xact_lock(('x' || substr(md5('agentdb-execution-stats-fold'), 1, 16))::bit(64)::bigint);
    LOCK TABLE public.agent_executions, public.execution_metrics, public.workflow_executions
        IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM agentdb.agent_stats_deltas d WHERE d.date BETWEEN p_from AND p_to;
    DELETE FROM agentdb.workflow_stats_deltas d WHERE d.date BETWEEN p_from AND p_to;

    SELECT coalesce(jsonb_agg(f), '[]') INTO v_fresh
      FROM agentdb.raw_agent_execution_stats(p_from, p_to) f;
    v_keys := ARRAY(SELECT f.user_id::text || '|' || (f.day - DATE '2000-01-01')::text || '|' || f.agent_id::text
                      FROM jsonb_to_recordset(v_fresh) AS f (user_id uuid, day date, agent_id uuid, execution_count bigint, success_count bigint,
                  failed_count bigint, cancelled_count bigint, duration_count bigint,
                  total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer,
                  total_tokens bigint, total_llm_calls bigint, total_cost numeric));
    DELETE FROM public.agent_execution_stats s
     WHERE s.date BETWEEN p_from AND p_to
       AND s.user_id::text || '|' || (s.date - DATE '2000-01-01')::text || '|' || s.agent_id::text <> ALL (v_keys);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    WITH written AS (
        INSERT INTO public.agent_execution_stats AS s
            (user_id, date, agent_id, execution_count, success_count, failed_count,
             cancelled_count, duration_count, total_duration_ms, min_duration_ms,
             max_duration_ms, avg_duration_ms, total_tokens, total_llm_calls, total_cost)
        SELECT f.user_id, f.day, f.agent_id, f.execution_count, f.success_count, f.failed_count,
               f.cancelled_count, f.duration_count, f.total_duration_ms, f.min_duration_ms,
               f.max_duration_ms, round(f.total_duration_ms::numeric / NULLIF(f.duration_count, 0))::bigint,
               f.total_tokens, f.total_llm_calls, f.total_cost
          FROM jsonb_to_recordset(v_fresh) AS f (user_id uuid, day date, agent_id uuid, execution_count bigint, success_count bigint,
                      failed_count bigint, cancelled_count bigint, duration_count bigint,
                      total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer,
                      total_tokens bigint, total_llm_calls bigint, total_cost numeric)
        ON CONFLICT (user_id, date, agent_id) DO UPDATE SET
            execution_count = excluded.execution_count, success_count = excluded.success_count,
            failed_count = excluded.failed_count, cancelled_count = excluded.cancelled_count,
            duration_count = excluded.duration_count, total_duration_ms = excluded.total_duration_ms,
            min_duration_ms = excluded.min_duration_ms, max_duration_ms = excluded.max_duration_ms,
            avg_duration_ms = excluded.avg_duration_ms,
            total_tokens = excluded.total_tokens, total_llm_calls = excluded.total_llm_calls,
            total_cost = excluded.total_cost, updated_at = excluded.updated_at
        WHERE (s.execution_count, s.success_count, s.failed_count, s.cancelled_count,
               s.duration_count, s.total_duration_ms, s.min_duration_ms, s.max_duration_ms, s.avg_duration_ms,
               s.total_tokens, s.total_llm_calls, s.total_cost)
              IS DISTINCT FROM
              (excluded.execution_count, excluded.success_count, excluded.failed_count,
               excluded.cancelled_count, excluded.duration_count, excluded.total_duration_ms,
               excluded.min_duration_ms, excluded.max_duration_ms, excluded.avg_duration_ms, excluded.total_tokens,
               excluded.total_llm_calls, excluded.total_cost)
        RETURNING 1
    )
    SELECT count(*) INTO v_written FROM written;
    stats_table := 'agent_execution_stats'; rows_deleted := v_deleted; rows_written := v_written;
    RETURN NEXT;

    -- the user rollup is the sum of the agent rollup just rebuilt (same raw rows);
    -- grouped by user_id, the sums are computed on the shards
    SELECT coalesce(jsonb_agg(f), '[]') INTO v_fresh
      FROM (SELECT a.user_id, a.date AS day,
                   sum(a.execution_count)::bigint AS execution_count,
                   sum(a.success_count)::bigint AS success_count,
                   sum(a.failed_count)::bigint AS failed_count,
                   sum(a.cancelled_count)::bigint AS cancelled_count,
                   sum(a.duration_count)::bigint AS duration_count,
                   sum(a.total_duration_ms)::bigint AS total_duration_ms,
                   min(a.min_duration_ms) AS min_duration_ms,
                   max(a.max_duration_ms) AS max_duration_ms,
                   sum(a.total_tokens)::bigint AS total_tokens,
                   sum(a.total_llm_calls)::bigint AS total_llm_calls,
                   sum(a.total_cost) AS total_cost
              FROM public.agent_execution_stats a
             WHERE a.date BETWEEN p_from AND p_to
             GROUP BY a.user_id, a.date) f;
    v_keys := ARRAY(SELECT f.user_id::text || '|' || (f.day - DATE '2000-01-01')::text
                      FROM jsonb_to_recordset(v_fresh) AS f (user_id uuid, day date, execution_count bigint, success_count bigint,
                  failed_count bigint, cancelled_count bigint, duration_count bigint,
                  total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer,
                  total_tokens bigint, total_llm_calls bigint, total_cost numeric));
    DELETE FROM public.user_execution_stats s
     WHERE s.date BETWEEN p_from AND p_to
       AND s.user_id::text || '|' || (s.date - DATE '2000-01-01')::text <> ALL (v_keys);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    WITH written AS (
        INSERT INTO public.user_execution_stats AS s
            (user_id, date, execution_count, success_count, failed_count,
             cancelled_count, duration_count, total_duration_ms, min_duration_ms,
             max_duration_ms, avg_duration_ms, total_tokens, total_llm_calls, total_cost)
        SELECT f.user_id, f.day, f.execution_count, f.success_count, f.failed_count,
               f.cancelled_count, f.duration_count, f.total_duration_ms, f.min_duration_ms,
               f.max_duration_ms, round(f.total_duration_ms::numeric / NULLIF(f.duration_count, 0))::bigint,
               f.total_tokens, f.total_llm_calls, f.total_cost
          FROM jsonb_to_recordset(v_fresh) AS f (user_id uuid, day date, execution_count bigint, success_count bigint,
                      failed_count bigint, cancelled_count bigint, duration_count bigint,
                      total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer,
                      total_tokens bigint, total_llm_calls bigint, total_cost numeric)
        ON CONFLICT (user_id, date) DO UPDATE SET
            execution_count = excluded.execution_count, success_count = excluded.success_count,
            failed_count = excluded.failed_count, cancelled_count = excluded.cancelled_count,
            duration_count = excluded.duration_count, total_duration_ms = excluded.total_duration_ms,
            min_duration_ms = excluded.min_duration_ms, max_duration_ms = excluded.max_duration_ms,
            avg_duration_ms = excluded.avg_duration_ms,
            total_tokens = excluded.total_tokens, total_llm_calls = excluded.total_llm_calls,
            total_cost = excluded.total_cost, updated_at = excluded.updated_at
        WHERE (s.execution_count, s.success_count, s.failed_count, s.cancelled_count,
               s.duration_count, s.total_duration_ms, s.min_duration_ms, s.max_duration_ms, s.avg_duration_ms,
               s.total_tokens, s.total_llm_calls, s.total_cost)
              IS DISTINCT FROM
              (excluded.execution_count, excluded.success_count, excluded.failed_count,
               excluded.cancelled_count, excluded.duration_count, excluded.total_duration_ms,
               excluded.min_duration_ms, excluded.max_duration_ms, excluded.avg_duration_ms, excluded.total_tokens,
               excluded.total_llm_calls, excluded.total_cost)
        RETURNING 1
    )
    SELECT count(*) INTO v_written FROM written;
    stats_table := 'user_execution_stats'; rows_deleted := v_deleted; rows_written := v_written;
    RETURN NEXT;

    SELECT coalesce(jsonb_agg(f), '[]') INTO v_fresh
      FROM agentdb.raw_workflow_execution_stats(p_from, p_to) f;
    v_keys := ARRAY(SELECT f.user_id::text || '|' || (f.day - DATE '2000-01-01')::text || '|' || f.workflow_id::text
                      FROM jsonb_to_recordset(v_fresh) AS f (user_id uuid, day date, workflow_id uuid, execution_count bigint, success_count bigint,
                  failed_count bigint, cancelled_count bigint, duration_count bigint,
                  total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer));
    DELETE FROM public.workflow_execution_stats s
     WHERE s.date BETWEEN p_from AND p_to
       AND s.user_id::text || '|' || (s.date - DATE '2000-01-01')::text || '|' || s.workflow_id::text <> ALL (v_keys);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    WITH written AS (
        INSERT INTO public.workflow_execution_stats AS s
            (user_id, date, workflow_id, execution_count, success_count, failed_count,
             cancelled_count, duration_count, total_duration_ms, min_duration_ms, max_duration_ms,
             avg_duration_ms)
        SELECT f.user_id, f.day, f.workflow_id, f.execution_count, f.success_count,
               f.failed_count, f.cancelled_count, f.duration_count, f.total_duration_ms,
               f.min_duration_ms, f.max_duration_ms, round(f.total_duration_ms::numeric / NULLIF(f.duration_count, 0))::bigint
          FROM jsonb_to_recordset(v_fresh) AS f (user_id uuid, day date, workflow_id uuid, execution_count bigint, success_count bigint,
                      failed_count bigint, cancelled_count bigint, duration_count bigint,
                      total_duration_ms bigint, min_duration_ms integer, max_duration_ms integer)
        ON CONFLICT (user_id, date, workflow_id) DO UPDATE SET
            execution_count = excluded.execution_count, success_count = excluded.success_count,
            failed_count = excluded.failed_count, cancelled_count = excluded.cancelled_count,
            duration_count = excluded.duration_count, total_duration_ms = excluded.total_duration_ms,
            min_duration_ms = excluded.min_duration_ms, max_duration_ms = excluded.max_duration_ms,
            avg_duration_ms = excluded.avg_duration_ms,
            updated_at = excluded.updated_at
        WHERE (s.execution_count, s.success_count, s.failed_count, s.cancelled_count,
               s.duration_count, s.total_duration_ms, s.min_duration_ms, s.max_duration_ms, s.avg_duration_ms)
              IS DISTINCT FROM
              (excluded.execution_count, excluded.success_count, excluded.failed_count,
               excluded.cancelled_count, excluded.duration_count, excluded.total_duration_ms,
               excluded.min_duration_ms, excluded.max_duration_ms, excluded.avg_duration_ms)
        RETURNING 1
    )
    SELECT count(*) INTO v_written FROM written;
    stats_table := 'workflow_execution_stats'; rows_deleted := v_deleted; rows_written := v_written;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agentdb.refresh_execution_stats(date, date) IS
    'Citus: rebuild agent/user/workflow execution stats of the UTC days p_from..p_to from the raw rows (idempotent; locks writers out meanwhile; refuses days before the retention horizon); returns rows deleted and written per table';
REVOKE EXECUTE ON FUNCTION agentdb.refresh_execution_stats(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.refresh_execution_stats(date, date) TO agentdb_admin;
