-- Citus variant (pyglue install --citus) of sql/memory/preview_memory_consolidation.sql:
-- the same count, in PL/pgSQL: Citus cannot plan the statement of a
-- parameterised LANGUAGE sql function. The cut-off is computed once here,
-- so the count runs on every shard with a plain value. Keep the predicate
-- identical to consolidate_memories().
CREATE OR REPLACE FUNCTION agentdb.preview_memory_consolidation(p_agent_id uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cutoff timestamp := timezone('utc', now()) - interval '12 hours';
BEGIN
    RETURN (
        SELECT count(*)::integer
          FROM public.agent_memories AS m
         WHERE (p_agent_id IS NULL OR m.agent_id = p_agent_id)
           AND m.type = 'short_term'
           AND m.access_count >= 3
           AND m.created_at < v_cutoff);
END
$$;
COMMENT ON FUNCTION agentdb.preview_memory_consolidation(uuid) IS
    'Citus: how many memories consolidate_memories(p_agent_id) would promote now; changes nothing';
