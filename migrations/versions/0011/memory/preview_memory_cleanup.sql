-- agentdb.preview_memory_cleanup: what cleanup_expired_memories() would
-- delete now, per enabled policy (policy_name order), changing nothing: the
-- rows and their approximate size. Both build their WHERE clause with
-- agentdb.build_expiry_predicate() and take the policies in the same order;
-- a row two policies match is counted under the first, as the cleanup
-- deletes it under the first. approx_bytes is the stored size of the rows
-- (pg_column_size of the whole row: tuple header and columns, TOASTed values
-- included, index entries excluded).
--
-- A policy that fails (a cut-off out of range, say) gets a row with its
-- error, no cut-off and zero rows (and a WARNING naming it); the others are
-- previewed as usual.
--
-- SECURITY DEFINER: agentdb_admin need not read the platform's table.
CREATE FUNCTION agentdb.preview_memory_cleanup()
RETURNS TABLE (
    policy_name text,
    memory_type text,
    importance text,
    age_basis text,
    max_age interval,
    cutoff timestamp,
    rows_to_delete bigint,
    approx_bytes bigint,
    error text
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_policy record;
    v_predicate text;
    v_cutoffs timestamp[] := '{}'::timestamp[];
    v_earlier text := '';
    v_state text;
    v_message text;
    v_detail text;
BEGIN
    FOR v_policy IN
        SELECT p.policy_name, p.memory_type, p.importance, p.age_basis, p.max_age
          FROM agentdb.memory_policies AS p
         WHERE p.enabled
         ORDER BY p.policy_name
    LOOP
        policy_name := v_policy.policy_name;
        memory_type := v_policy.memory_type;
        importance := v_policy.importance;
        age_basis := v_policy.age_basis;
        max_age := v_policy.max_age;
        error := NULL;
        BEGIN
            cutoff := timezone('utc', now()) - v_policy.max_age;
            v_cutoffs := v_cutoffs || cutoff;
            SELECT e.predicate INTO v_predicate
              FROM agentdb.build_expiry_predicate(v_policy.memory_type, v_policy.importance,
                                                  v_policy.age_basis,
                                                  format('$1[%s]', cardinality(v_cutoffs))) AS e;
            EXECUTE format(
                'SELECT count(*), coalesce(sum(pg_catalog.pg_column_size(m.*)), 0)::bigint'
                ' FROM public.agent_memories AS m WHERE %s%s',
                v_predicate, v_earlier)
               INTO rows_to_delete, approx_bytes
              USING v_cutoffs;
            v_earlier := v_earlier || format(' AND NOT (%s)', v_predicate);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL;
            cutoff := NULL;
            rows_to_delete := 0;
            approx_bytes := 0;
            error := v_message || CASE WHEN v_detail <> '' THEN ' (' || v_detail || ')' ELSE '' END
                               || ' [SQLSTATE ' || v_state || ']';
            RAISE WARNING 'agentdb.preview_memory_cleanup: memory policy % failed: %',
                v_policy.policy_name, error;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agentdb.preview_memory_cleanup() IS
    'Per enabled memory policy: the cut-off, the rows cleanup_expired_memories() would delete now and their approximate bytes, or the error of a policy that failed; changes nothing';
REVOKE EXECUTE ON FUNCTION agentdb.preview_memory_cleanup() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.preview_memory_cleanup() TO agentdb_admin;
