-- agentdb.preview_memory_consolidation: how many memories
-- consolidate_memories() would promote now, changing nothing. The dry run of
-- run_memory_maintenance() records it. Keep the predicate identical to
-- consolidate_memories() (tests/sql/preview_memory_consolidation.sql checks it).
--
-- SECURITY DEFINER: agentdb_admin need not read the platform's table.
CREATE FUNCTION agentdb.preview_memory_consolidation(p_agent_id uuid DEFAULT NULL)
RETURNS integer
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*)::integer
      FROM public.agent_memories AS m
     WHERE (p_agent_id IS NULL OR m.agent_id = p_agent_id)
       AND m.type = 'short_term'
       AND m.access_count >= 3
       AND m.created_at < timezone('utc', now()) - interval '12 hours';
$$;
COMMENT ON FUNCTION agentdb.preview_memory_consolidation(uuid) IS
    'How many memories consolidate_memories(p_agent_id) would promote now; changes nothing';
REVOKE EXECUTE ON FUNCTION agentdb.preview_memory_consolidation(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.preview_memory_consolidation(uuid) TO agentdb_admin;
