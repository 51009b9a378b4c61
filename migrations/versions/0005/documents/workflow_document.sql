-- agentdb.workflow_document: a whole workflow in one round trip, for hot
-- paths and for apps in other languages (the ORM helper
-- pyglue.queries.get_workflow_with_relations needs three statements).
-- The document has the same content as that helper: every column of the
-- workflow, plus
--   owner   the owning user's row,
--   blocks  the workflow's blocks ordered by (position, id),
--   edges   the workflow's edges ordered by id,
--   agents  the agents the blocks reference, as an object keyed by agent id
--           (a block's agent is agents[block.agent_id]).
-- Timestamps are the stored UTC values (ISO 8601, no offset). NULL when no
-- workflow has the id. SECURITY INVOKER: the caller reads the tables with
-- its own privileges, exactly as the ORM helper would.
CREATE FUNCTION agentdb.workflow_document(p_workflow_id uuid)
RETURNS jsonb
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_jsonb(w) || jsonb_build_object(
        'owner', (SELECT to_jsonb(u) FROM public.users u WHERE u.id = w.user_id),
        'blocks', COALESCE(
            (SELECT jsonb_agg(to_jsonb(b) ORDER BY b.position, b.id)
               FROM public.agent_blocks b
              WHERE b.workflow_id = w.id),
            '[]'::jsonb),
        'edges', COALESCE(
            (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.id)
               FROM public.workflow_edges e
              WHERE e.workflow_id = w.id),
            '[]'::jsonb),
        'agents', COALESCE(
            (SELECT jsonb_object_agg(a.id, to_jsonb(a))
               FROM public.agents a
              WHERE a.id IN (SELECT b.agent_id
                               FROM public.agent_blocks b
                              WHERE b.workflow_id = w.id)),
            '{}'::jsonb))
      FROM public.workflows w
     WHERE w.id = p_workflow_id;
$$;
COMMENT ON FUNCTION agentdb.workflow_document(uuid) IS
    'A workflow as one jsonb document: its columns, owner, blocks (by position, id), edges (by id) and the agents its blocks reference (keyed by id); NULL for an unknown id';
REVOKE EXECUTE ON FUNCTION agentdb.workflow_document(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.workflow_document(uuid) TO agentdb_app;
