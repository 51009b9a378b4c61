-- agentdb.cleanup_expired_memories: delete the memories the enabled policies
-- expire (policy_name order), in batches of p_batch_size rows, at most
-- p_max_batches batches per policy (NULL: until done). Returns per policy the
-- rows deleted, the batches run and whether it finished (its last batch came
-- short). A function runs in its caller's transaction: for a large backlog
-- use CALL agentdb.run_memory_maintenance(), which calls this with
-- p_max_batches => 1 and COMMITs between calls so locks stay short.
--
-- Each batch is one statement:
--   DELETE ... WHERE ctid = ANY (ARRAY(SELECT ctid ... WHERE <policy>
--                                     ORDER BY <age> LIMIT n FOR UPDATE SKIP LOCKED))
-- The inner scan reads the policy's partial index from the oldest row (the
-- ORDER BY keeps the planner on that index however many rows expired: an
-- ordered index scan, or for a few rows a bitmap scan of it and a sort), and
-- SKIP LOCKED leaves rows the app is updating right now to the next run
-- instead of waiting on (or deadlocking with) the app's transactions. A row
-- updated since the statement began is re-checked under the lock: recalled
-- meanwhile under a last_access rule, it is no longer expired and is kept.
--
-- Policies are isolated: a policy that fails (a cut-off out of range, say) is
-- rolled back alone, returned with its error (and raised as a WARNING naming
-- it), and the others still run.
--
-- SECURITY DEFINER: agentdb_admin runs the cleanup without holding DELETE on
-- the platform's table; this function can delete only what policies expire.
CREATE FUNCTION agentdb.cleanup_expired_memories(
    p_batch_size integer DEFAULT 5000,
    p_max_batches integer DEFAULT NULL
)
RETURNS TABLE (policy_name text, rows_deleted bigint, batches integer, complete boolean, error text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_policy record;
    v_expiry record;
    v_sql text;
    v_cutoff timestamp;
    v_count bigint;
    v_state text;
    v_message text;
    v_detail text;
BEGIN
    IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
        RAISE EXCEPTION 'p_batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_batches IS NOT NULL AND p_max_batches <= 0 THEN
        RAISE EXCEPTION 'p_max_batches must be a positive integer or NULL (no limit), not %', p_max_batches
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_policy IN
        SELECT p.policy_name, p.memory_type, p.importance, p.age_basis, p.max_age
          FROM agentdb.memory_policies AS p
         WHERE p.enabled
         ORDER BY p.policy_name
    LOOP
        policy_name := v_policy.policy_name;
        rows_deleted := 0;
        batches := 0;
        complete := false;
        error := NULL;
        BEGIN
            SELECT e.predicate, e.age_expression INTO v_expiry
              FROM agentdb.build_expiry_predicate(v_policy.memory_type, v_policy.importance,
                                                  v_policy.age_basis, '$1') AS e;
            v_sql := format(
                'DELETE FROM public.agent_memories WHERE ctid = ANY (ARRAY('
                'SELECT ctid FROM public.agent_memories WHERE %s ORDER BY %s LIMIT $2'
                ' FOR UPDATE SKIP LOCKED))',
                v_expiry.predicate, v_expiry.age_expression);
            v_cutoff := timezone('utc', now()) - v_policy.max_age;
            WHILE p_max_batches IS NULL OR batches < p_max_batches LOOP
                EXECUTE v_sql USING v_cutoff, p_batch_size;
                GET DIAGNOSTICS v_count = ROW_COUNT;
                batches := batches + 1;
                rows_deleted := rows_deleted + v_count;
                IF v_count < p_batch_size THEN
                    complete := true;
                    EXIT;
                END IF;
            END LOOP;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL;
            -- this policy's deletes were rolled back with its block
            rows_deleted := 0;
            batches := 0;
            complete := true;
            error := v_message || CASE WHEN v_detail <> '' THEN ' (' || v_detail || ')' ELSE '' END
                               || ' [SQLSTATE ' || v_state || ']';
            RAISE WARNING 'agentdb.cleanup_expired_memories: memory policy % failed: %',
                v_policy.policy_name, error;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agentdb.cleanup_expired_memories(integer, integer) IS
    'Delete the memories the enabled policies expire, in batches of p_batch_size (at most p_max_batches per policy); returns rows deleted, batches and completion per policy, and the error of a policy that failed (the others still run)';
REVOKE EXECUTE ON FUNCTION agentdb.cleanup_expired_memories(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.cleanup_expired_memories(integer, integer) TO agentdb_admin;
