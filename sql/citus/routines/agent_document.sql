-- Citus variant (pyglue install --citus) of sql/documents/agent_document.sql:
-- the same document, user-scoped. PL/pgSQL, not a parameterised LANGUAGE
-- sql function: Citus does not push such a function's statement down to the
-- shards. The agent's user is looked up first (by id alone: every shard is
-- asked, one index probe each); then the whole document is one statement
-- filtered by that user_id, which Citus runs on the one node holding the
-- user's agent, tools and knowledgebases (users is a reference table, on
-- every node). The tools and knowledgebases carry the user_id column the
-- conversion gave them. NULL when no agent has the id. SECURITY INVOKER.
CREATE OR REPLACE FUNCTION agentdb.agent_document(p_agent_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT a.user_id INTO v_user FROM public.agents a WHERE a.id = p_agent_id;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN (
        SELECT to_jsonb(a) || jsonb_build_object(
            'owner', (SELECT to_jsonb(u) FROM public.users u WHERE u.id = v_user),
            'tools', COALESCE(
                (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.name, t.id)
                   FROM public.agent_tools t
                  WHERE t.user_id = v_user AND t.agent_id = a.id),
                '[]'::jsonb),
            'knowledgebases', COALESCE(
                (SELECT jsonb_agg(to_jsonb(k) ORDER BY k.name, k.id)
                   FROM public.agent_knowledgebases ak
                   JOIN public.knowledgebases k ON k.user_id = ak.user_id AND k.id = ak.knowledgebase_id
                  WHERE ak.user_id = v_user AND ak.agent_id = a.id),
                '[]'::jsonb))
          FROM public.agents a
         WHERE a.user_id = v_user AND a.id = p_agent_id);
END
$$;
COMMENT ON FUNCTION agentdb.agent_document(uuid) IS
    'Citus: an agent as one jsonb document (its columns, owner, tools by name, id, knowledgebases by name, id), read from its user''s shards; NULL for an unknown id';
