-- agentdb.touch_memories: record that memories were recalled: one UPDATE
-- bumps access_count and sets last_accessed_at (UTC) of every listed row,
-- instead of one round trip per memory. pyglue.memory.recall() calls it in
-- the transaction that read the memories. Returns the new values, so the
-- caller's copies need no second read. An id listed twice counts once (one
-- recall); unknown ids are ignored. updated_at is left alone: a recall is not
-- an edit of the memory.
--
-- SECURITY INVOKER: the app's role writes agent_memories anyway; granting
-- agentdb_app adds no privilege on the table.
CREATE FUNCTION agentdb.touch_memories(p_ids uuid[])
RETURNS TABLE (id uuid, access_count integer, last_accessed_at timestamp)
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE public.agent_memories AS m
       SET access_count = m.access_count + 1,
           last_accessed_at = timezone('utc', now())
     WHERE m.id = ANY (p_ids)
    RETURNING m.id, m.access_count, m.last_accessed_at;
$$;
COMMENT ON FUNCTION agentdb.touch_memories(uuid[]) IS
    'Record a recall of many memories in one statement: access_count + 1 and last_accessed_at = now (UTC); returns the new values';
REVOKE EXECUTE ON FUNCTION agentdb.touch_memories(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.touch_memories(uuid[]) TO agentdb_app;
