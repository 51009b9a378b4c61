-- agentdb.consolidate_memories: promote the short-term memories an agent
-- keeps using: recalled at least 3 times and older than 12 hours, they become
-- long_term with importance at least medium (a high one stays high: promotion
-- never demotes). For one agent, or for all when p_agent_id is NULL.
-- run_memory_maintenance() runs it before the cleanup, so a memory worth
-- keeping is promoted before the short_term policy would delete it.
--
-- SECURITY DEFINER: agentdb_admin runs the maintenance without holding
-- UPDATE on the platform's table; this function can do only this update.
CREATE FUNCTION agentdb.consolidate_memories(p_agent_id uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_now timestamp := timezone('utc', now());
    v_count integer;
BEGIN
    -- two statements rather than "p_agent_id IS NULL OR agent_id = p_agent_id",
    -- so the one-agent form keeps its index on agent_id under a generic plan
    IF p_agent_id IS NULL THEN
        UPDATE public.agent_memories AS m
           SET type = 'long_term',
               importance = CASE WHEN m.importance = 'high' THEN 'high' ELSE 'medium' END,
               updated_at = v_now
         WHERE m.type = 'short_term'
           AND m.access_count >= 3
           AND m.created_at < v_now - interval '12 hours';
    ELSE
        UPDATE public.agent_memories AS m
           SET type = 'long_term',
               importance = CASE WHEN m.importance = 'high' THEN 'high' ELSE 'medium' END,
               updated_at = v_now
         WHERE m.agent_id = p_agent_id
           AND m.type = 'short_term'
           AND m.access_count >= 3
           AND m.created_at < v_now - interval '12 hours';
    END IF;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION agentdb.consolidate_memories(uuid) IS
    'Promote short_term memories recalled 3+ times and older than 12 hours to long_term, importance at least medium, for one agent or all (NULL); returns the number promoted';
REVOKE EXECUTE ON FUNCTION agentdb.consolidate_memories(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.consolidate_memories(uuid) TO agentdb_admin;
