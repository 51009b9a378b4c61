-- Citus conversion, step 1 (pyglue install --citus): the tables that reach
-- their user only through a parent (agent_tools, agent_knowledgebases,
-- agent_memories, agent_blocks, workflow_edges, execution_metrics) have
-- user_id NOT NULL on every deployment since revision 0020, a copy of the
-- parent's, so every table but users can be distributed, and co-located, by
-- user_id. The conversion runs at head only: the columns are there.
--
-- On a single node 0020's triggers keep the copy equal to the parent's
-- (sql/tenancy/child_user_id.sql). Here they are dropped, functions kept
-- (a later revision's frozen SQL may replace them; they then run nowhere):
-- - the coordinator routes a row by user_id before any trigger runs, so a
--   row without it is refused whatever a shard's trigger would fill in: the
--   ORM fills user_id from the parent (pyglue.models) and raw SQL passes it;
-- - a different user_id than the parent's is refused by the composite
--   foreign keys (user_id, parent key) of foreign_keys.sql, on the shard;
-- - a change of a parent's user_id, which the pass_* triggers carried to
--   the children, is a change of the distribution column: Citus refuses it;
-- - the take_* triggers would read the parent by its key alone, from a
--   shard: a query over every shard, per row.
DROP TRIGGER IF EXISTS agentdb_pass_user_id ON public.agents;
DROP TRIGGER IF EXISTS agentdb_pass_user_id ON public.workflows;
DROP TRIGGER IF EXISTS agentdb_pass_user_id ON public.agent_executions;
DROP TRIGGER IF EXISTS agentdb_take_user_id ON public.agent_tools;
DROP TRIGGER IF EXISTS agentdb_take_user_id_update ON public.agent_tools;
DROP TRIGGER IF EXISTS agentdb_take_user_id ON public.agent_knowledgebases;
DROP TRIGGER IF EXISTS agentdb_take_user_id_update ON public.agent_knowledgebases;
DROP TRIGGER IF EXISTS agentdb_take_user_id ON public.agent_memories;
DROP TRIGGER IF EXISTS agentdb_take_user_id_update ON public.agent_memories;
DROP TRIGGER IF EXISTS agentdb_take_user_id ON public.agent_blocks;
DROP TRIGGER IF EXISTS agentdb_take_user_id_update ON public.agent_blocks;
DROP TRIGGER IF EXISTS agentdb_take_user_id ON public.workflow_edges;
DROP TRIGGER IF EXISTS agentdb_take_user_id_update ON public.workflow_edges;
DROP TRIGGER IF EXISTS agentdb_take_user_id ON public.execution_metrics;
DROP TRIGGER IF EXISTS agentdb_take_user_id_update ON public.execution_metrics;

DO $$
DECLARE
    v_missing text;
BEGIN
    SELECT string_agg(t, ', ') INTO v_missing
      FROM unnest(ARRAY['agent_tools', 'agent_knowledgebases', 'agent_memories', 'agent_blocks',
                        'workflow_edges', 'execution_metrics']) t
     WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = ('public.' || t)::regclass AND a.attname = 'user_id'
                          AND a.attnotnull AND NOT a.attisdropped);
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'user_id NOT NULL is missing from %: the database is not at revision 0020 or later',
            v_missing
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;
