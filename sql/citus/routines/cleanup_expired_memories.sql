-- Citus variant (pyglue install --citus) of sql/memory/cleanup_expired_memories.sql:
-- the same policies, batches and results, each batch scoped to one user.
-- The single-node batch is a range of the policy's index over the whole
-- table; on Citus that range spans every shard, and its bound (the n-th
-- oldest row) is a merge of all shards at the coordinator. Here the users
-- with expired rows are listed first (one statement pushed to every shard),
-- then each user's rows go in batches of at most p_batch_size by the same
-- (age, id) range, every statement filtered by user_id: a router query run
-- whole on the node holding that user. p_max_batches counts the batches of
-- a policy across its users; complete is true when every user's expired
-- rows of the policy are gone. p_resume is checked as on a single node but
-- not used, and resume_after is NULL: a call starts from each user's oldest
-- expired row, as the users are listed anew.
--
-- agentdb.cleanup_expired_memories: delete the memories the enabled policies
-- expire (policy_name order), in batches of p_batch_size rows, at most
-- p_max_batches batches per policy (NULL: until done). Returns per policy the
-- rows deleted, the batches run, whether it finished (its last batch came
-- short) and resume_after. A function runs in its caller's transaction: for
-- a large backlog use CALL agentdb.run_memory_maintenance(), which calls this
-- with p_max_batches => 1 and COMMITs between calls so locks stay short.
--
-- A batch is a range of the policy's partial index, keyed by (age, id), never
-- by ctid (the same statements run on a table Citus distributes by user):
--   SELECT <age>, id ... WHERE <policy> ORDER BY <age>, id OFFSET n - 1 LIMIT 1
-- finds the batch's last row (none: fewer than n rows are left, and the
-- batch deletes them all), then
--   DELETE ... WHERE <policy> AND <age> <= $age AND (<age> < $age OR id <= $id)
-- deletes the n oldest in one range scan of that index, visiting the heap in
-- physical order. No row is locked first: 0011's batches (FOR UPDATE SKIP
-- LOCKED, then a DELETE by ctid) wrote every row twice and ran at about half
-- the naive DELETE's rows/s. A row the app updated meanwhile is re-checked
-- against the policy when the DELETE reaches it: recalled under a
-- last_access rule, it is no longer expired and is kept. A row the app holds
-- is waited for (one statement of the app's); should a multi-row
-- touch_memories ever close a lock cycle with a batch, the batch PostgreSQL
-- aborts (deadlock_detected) is run again, at most 3 times in all.
--
-- Policies are isolated: a policy that fails (a cut-off out of range, say) is
-- rolled back alone, returned with its error (and raised as a WARNING naming
-- it), and the others still run.
--
-- SECURITY DEFINER: agentdb_admin runs the cleanup without holding DELETE on
-- the platform's table; this function can delete only what policies expire.
CREATE OR REPLACE FUNCTION agentdb.cleanup_expired_memories(
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
    v_last text;
    v_delete text;
    v_bound_age timestamp;
    v_bound_id uuid;
    v_users uuid[];
    v_user uuid;
    v_stopped boolean;
    v_attempt integer;
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
        resume_after := NULL;
        BEGIN
            SELECT e.predicate, e.age_expression INTO v_expiry
              FROM agentdb.build_expiry_predicate(v_policy.memory_type, v_policy.importance,
                                                  v_policy.age_basis, '$1') AS e;
            v_last := format(
                'SELECT %2$s, id FROM public.agent_memories WHERE user_id = $3 AND %1$s'
                ' ORDER BY %2$s, id OFFSET $2 LIMIT 1',
                v_expiry.predicate, v_expiry.age_expression);
            v_delete := format('DELETE FROM public.agent_memories WHERE user_id = $4 AND %s', v_expiry.predicate);
            v_cutoff := timezone('utc', now()) - v_policy.max_age;
            EXECUTE format('SELECT ARRAY(SELECT DISTINCT user_id FROM public.agent_memories WHERE %s ORDER BY 1)',
                           v_expiry.predicate)
                INTO v_users USING v_cutoff;
            v_stopped := false;
            <<users>>
            FOREACH v_user IN ARRAY v_users LOOP
                LOOP
                    IF p_max_batches IS NOT NULL AND batches >= p_max_batches THEN
                        v_stopped := true;
                        EXIT users;
                    END IF;
                    v_attempt := 1;
                    LOOP
                        BEGIN
                            EXECUTE v_last INTO v_bound_age, v_bound_id
                                USING v_cutoff, p_batch_size - 1, v_user;
                            IF v_bound_id IS NULL THEN
                                EXECUTE v_delete USING v_cutoff, NULL::timestamp, NULL::uuid, v_user;
                            ELSE
                                EXECUTE v_delete || format(' AND %1$s <= $2 AND (%1$s < $2 OR id <= $3)',
                                                           v_expiry.age_expression)
                                    USING v_cutoff, v_bound_age, v_bound_id, v_user;
                            END IF;
                            GET DIAGNOSTICS v_count = ROW_COUNT;
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
                    EXIT WHEN v_bound_id IS NULL;  -- fewer than p_batch_size rows of this user were left
                END LOOP;
            END LOOP;
            complete := NOT v_stopped;
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
COMMENT ON FUNCTION agentdb.cleanup_expired_memories(integer, integer, jsonb) IS
    'Citus: one user at a time. Delete the memories the enabled policies expire, in batches of p_batch_size (at most p_max_batches per policy); returns rows deleted, batches and completion per policy, and the error of a policy that failed (the others still run)';
REVOKE EXECUTE ON FUNCTION agentdb.cleanup_expired_memories(integer, integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.cleanup_expired_memories(integer, integer, jsonb) TO agentdb_admin;
