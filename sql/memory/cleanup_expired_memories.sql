-- agentdb.cleanup_expired_memories: delete the memories the enabled policies
-- expire (policy_name order), in batches of p_batch_size rows, at most
-- p_max_batches batches per policy (NULL: until done). Returns per policy the
-- rows deleted, the batches run, whether it finished (its last batch came
-- short) and resume_after, the position its next batch starts after. A
-- function runs in its caller's transaction: for a large backlog use
-- CALL agentdb.run_memory_maintenance(), which calls this with
-- p_max_batches => 1 and COMMITs between calls so locks stay short, passing
-- back each policy's resume_after as p_resume ({policy_name: resume_after}).
--
-- A batch is a range of the policy's partial index on (age, id), never of
-- ctid (the same statements run on a table Citus distributes by user):
--   SELECT <age>, id ... WHERE <policy> AND (<age>, id) > <after>
--    ORDER BY <age>, id OFFSET n - 1 LIMIT 1
-- finds the batch's last row in an index-only scan (none: fewer than n rows
-- are left, and the batch deletes them all), then
--   DELETE ... WHERE <policy> AND <after> < (<age>, id) <= <last row>
-- deletes the batch in one bitmap scan of that index, visiting the heap in
-- physical order (the DELETE runs with enable_indexscan off: on an age many
-- rows share, the planner underestimated a batch and walked the heap in
-- index order, a third slower). <after> is the previous batch's last row
-- (after a short batch, the cut-off: every row expired then is gone), so a
-- batch never walks the index entries of the rows the batches before it
-- deleted (dead until VACUUM): without it, each batch of a run re-read all
-- of them. Each row comparison comes with the same bound on <age> alone,
-- which the planner can estimate (a row comparison it cannot, and it chose
-- a sequential scan). A row that appears below <after> during a run (a
-- memory inserted with an old created_at) waits for the next run.
--
-- No row is locked first: 0011's batches (FOR UPDATE SKIP LOCKED, then a
-- DELETE by ctid) wrote every row twice and ran at about half the naive
-- DELETE's rows/s. A row the app updated meanwhile is re-checked against the
-- policy when the DELETE reaches it: recalled under a last_access rule, it is
-- no longer expired and is kept. A row the app holds is waited for (one
-- statement of the app's); should a multi-row touch_memories ever close a
-- lock cycle with a batch, the batch PostgreSQL aborts (deadlock_detected)
-- is run again, at most 3 times in all.
--
-- Policies are isolated: a policy that fails (a cut-off out of range, say) is
-- rolled back alone, returned with its error (and raised as a WARNING naming
-- it), and the others still run.
--
-- SECURITY DEFINER: agentdb_admin runs the cleanup without holding DELETE on
-- the platform's table; this function can delete only what policies expire.
CREATE FUNCTION agentdb.cleanup_expired_memories(
    p_batch_size integer DEFAULT 5000,
    p_max_batches integer DEFAULT NULL,
    p_resume jsonb DEFAULT NULL
)
RETURNS TABLE (policy_name text, rows_deleted bigint, batches integer, complete boolean, error text,
               resume_after jsonb)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_policy record;
    v_expiry record;
    v_after text;
    v_last text;
    v_delete text;
    v_bound_age timestamp;
    v_bound_id uuid;
    v_after_age timestamp;
    v_after_id uuid;
    v_attempt integer;
    v_cutoff timestamp;
    v_count bigint;
    v_state text;
    v_message text;
    v_detail text;
    v_indexscan text := current_setting('enable_indexscan');
BEGIN
    IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
        RAISE EXCEPTION 'p_batch_size must be a positive integer, not %', coalesce(p_batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_batches IS NOT NULL AND p_max_batches <= 0 THEN
        RAISE EXCEPTION 'p_max_batches must be a positive integer or NULL (no limit), not %', p_max_batches
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_resume IS NOT NULL AND jsonb_typeof(p_resume) <> 'object' THEN
        RAISE EXCEPTION 'p_resume must be a JSON object {policy_name: resume_after} or NULL, not %', p_resume
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
        resume_after := p_resume -> v_policy.policy_name;
        BEGIN
            v_after_age := (resume_after ->> 'age')::timestamp;
            v_after_id := (resume_after ->> 'id')::uuid;
        EXCEPTION WHEN OTHERS THEN
            v_after_id := NULL;
        END;
        IF resume_after IS NOT NULL AND (v_after_age IS NULL OR v_after_id IS NULL) THEN
            RAISE EXCEPTION 'p_resume -> % must be {"age": timestamp, "id": uuid} as resume_after returned it, not %',
                quote_literal(v_policy.policy_name), resume_after
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        BEGIN
            SELECT e.predicate, e.age_expression INTO v_expiry
              FROM agentdb.build_expiry_predicate(v_policy.memory_type, v_policy.importance,
                                                  v_policy.age_basis, '$1') AS e;
            v_cutoff := timezone('utc', now()) - v_policy.max_age;
            WHILE p_max_batches IS NULL OR batches < p_max_batches LOOP
                -- $1 the cut-off, $2 the OFFSET (bound query) or with $3 the batch's last
                -- row (DELETE), $4 and $5 <after>
                v_after := CASE WHEN v_after_id IS NOT NULL THEN
                    format(' AND %1$s >= $4 AND (%1$s, id) > ($4, $5)', v_expiry.age_expression) END;
                v_last := format('SELECT %2$s, id FROM public.agent_memories WHERE %1$s%3$s'
                                 ' ORDER BY %2$s, id OFFSET $2 LIMIT 1',
                                 v_expiry.predicate, v_expiry.age_expression, v_after);
                v_delete := format('DELETE FROM public.agent_memories WHERE %s%s', v_expiry.predicate, v_after);
                v_attempt := 1;
                LOOP
                    BEGIN
                        EXECUTE v_last INTO v_bound_age, v_bound_id
                            USING v_cutoff, p_batch_size - 1, NULL::uuid, v_after_age, v_after_id;
                        IF v_bound_id IS NOT NULL THEN
                            v_delete := v_delete || format(' AND %1$s <= $2 AND (%1$s, id) <= ($2, $3)',
                                                           v_expiry.age_expression);
                        END IF;
                        PERFORM set_config('enable_indexscan', 'off', true);
                        EXECUTE v_delete USING v_cutoff, v_bound_age, v_bound_id, v_after_age, v_after_id;
                        GET DIAGNOSTICS v_count = ROW_COUNT;
                        PERFORM set_config('enable_indexscan', v_indexscan, true);
                        EXIT;
                    EXCEPTION WHEN deadlock_detected THEN
                        IF v_attempt >= 3 THEN
                            RAISE;
                        END IF;
                        v_attempt := v_attempt + 1;
                    END;
                END LOOP;
                batches := batches + 1;
                rows_deleted := rows_deleted + v_count;
                IF v_bound_id IS NULL THEN
                    -- fewer than p_batch_size rows were left: every row expired at
                    -- v_cutoff is gone, so the next call starts at the cut-off
                    v_after_age := v_cutoff;
                    v_after_id := '00000000-0000-0000-0000-000000000000';
                    complete := true;
                ELSE
                    v_after_age := v_bound_age;
                    v_after_id := v_bound_id;
                END IF;
                resume_after := jsonb_build_object('age', v_after_age, 'id', v_after_id);
                EXIT WHEN complete;
            END LOOP;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL;
            -- this policy's deletes were rolled back with its block
            rows_deleted := 0;
            batches := 0;
            complete := true;
            resume_after := p_resume -> v_policy.policy_name;
            error := v_message || CASE WHEN v_detail <> '' THEN ' (' || v_detail || ')' ELSE '' END
                               || ' [SQLSTATE ' || v_state || ']';
            RAISE WARNING 'agentdb.cleanup_expired_memories: memory policy % failed: %',
                v_policy.policy_name, error;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agentdb.cleanup_expired_memories(integer, integer, jsonb) IS
    'Delete the memories the enabled policies expire, in batches of p_batch_size (at most p_max_batches per policy, each policy starting after its p_resume position); returns rows deleted, batches, completion and the position to resume from per policy, and the error of a policy that failed (the others still run)';
REVOKE EXECUTE ON FUNCTION agentdb.cleanup_expired_memories(integer, integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.cleanup_expired_memories(integer, integer, jsonb) TO agentdb_admin;
