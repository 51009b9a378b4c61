-- agentdb.agent_document: an agent with everything it uses in one round
-- trip, for hot paths and for apps in other languages (the ORM helper
-- pyglue.queries.get_agent_with_relations needs three statements).
-- The document has the same content as that helper: every column of the
-- agent, plus
--   owner           the owning user's row,
--   tools           the agent's tools ordered by (name, id),
--   knowledgebases  the linked knowledgebases ordered by (name, id).
-- Timestamps are the stored UTC values (ISO 8601, no offset). NULL when no
-- agent has the id. SECURITY INVOKER: the caller reads the tables with its
-- own privileges, exactly as the ORM helper would.
CREATE FUNCTION agentdb.agent_document(p_agent_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_jsonb(a) || jsonb_build_object(
        'owner', (SELECT to_jsonb(u) FROM public.users u WHERE u.id = a.user_id),
        'tools', COALESCE(
            (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.name, t.id)
               FROM public.agent_tools t
              WHERE t.agent_id = a.id),
            '[]'::jsonb),
        'knowledgebases', COALESCE(
            (SELECT jsonb_agg(to_jsonb(k) ORDER BY k.name, k.id)
               FROM public.agent_knowledgebases ak
               JOIN public.knowledgebases k ON k.id = ak.knowledgebase_id
              WHERE ak.agent_id = a.id),
            '[]'::jsonb))
      FROM public.agents a
     WHERE a.id = p_agent_id;
$$;
COMMENT ON FUNCTION agentdb.agent_document(uuid) IS
    'An agent as one jsonb document: its columns, owner, tools (by name, id) and knowledgebases (by name, id); NULL for an unknown id';
REVOKE EXECUTE ON FUNCTION agentdb.agent_document(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.agent_document(uuid) TO agentdb_app;
