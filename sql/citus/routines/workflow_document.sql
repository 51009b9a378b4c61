-- Citus variant (pyglue install --citus) of sql/documents/workflow_document.sql:
-- the same document, user-scoped. PL/pgSQL, not a parameterised LANGUAGE
-- sql function: Citus does not push such a function's statement down to the
-- shards. The workflow's user is looked up first (by id alone: every shard
-- is asked, one index probe each); then the whole document is one statement
-- filtered by that user_id, which Citus runs on the one node holding the
-- user's workflow, blocks, edges and agents (users is a reference table).
-- Blocks and edges carry the user_id column the conversion gave them. NULL
-- when no workflow has the id. SECURITY INVOKER.
CREATE OR REPLACE FUNCTION agentdb.workflow_document(p_workflow_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT w.user_id INTO v_user FROM public.workflows w WHERE w.id = p_workflow_id;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN (
        SELECT to_jsonb(w) || jsonb_build_object(
            'owner', (SELECT to_jsonb(u) FROM public.users u WHERE u.id = v_user),
            'blocks', COALESCE(
                (SELECT jsonb_agg(to_jsonb(b) ORDER BY b.position, b.id)
                   FROM public.agent_blocks b
                  WHERE b.user_id = v_user AND b.workflow_id = w.id),
                '[]'::jsonb),
            'edges', COALESCE(
                (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.id)
                   FROM public.workflow_edges e
                  WHERE e.user_id = v_user AND e.workflow_id = w.id),
                '[]'::jsonb),
            'agents', COALESCE(
                (SELECT jsonb_object_agg(a.id, to_jsonb(a))
                   FROM public.agents a
                  WHERE a.user_id = v_user
                    AND a.id IN (SELECT b.agent_id
                                   FROM public.agent_blocks b
                                  WHERE b.user_id = v_user AND b.workflow_id = w.id)),
                '{}'::jsonb))
          FROM public.workflows w
         WHERE w.user_id = v_user AND w.id = p_workflow_id);
END
$$;
COMMENT ON FUNCTION agentdb.workflow_document(uuid) IS
    'Citus: a workflow as one jsonb document (its columns, owner, blocks by position, id, edges by id, the agents its blocks reference keyed by id), read from its user''s shards; NULL for an unknown id';
