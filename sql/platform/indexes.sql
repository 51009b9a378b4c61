-- Every index on the platform's tables at head, by the query it serves.
-- Revisions build them CONCURRENTLY under a lock_timeout (0002, 0003, 0006);
-- like tables.sql, no revision runs this file: a test checks that the live
-- tree and the migration chain agree.

-- The baseline's single-column indexes that still serve a query: foreign
-- keys (lookups by parent, ON DELETE CASCADE).
CREATE INDEX ix_agents_user_id ON public.agents (user_id);
CREATE INDEX ix_agent_tools_agent_id ON public.agent_tools (agent_id);
CREATE INDEX ix_knowledgebases_user_id ON public.knowledgebases (user_id);
CREATE INDEX ix_agent_knowledgebases_knowledgebase_id ON public.agent_knowledgebases (knowledgebase_id);
CREATE INDEX ix_workflows_user_id ON public.workflows (user_id);
CREATE INDEX ix_agent_blocks_workflow_id ON public.agent_blocks (workflow_id);
CREATE INDEX ix_agent_blocks_agent_id ON public.agent_blocks (agent_id);
CREATE INDEX ix_workflow_edges_workflow_id ON public.workflow_edges (workflow_id);
CREATE INDEX ix_workflow_edges_source_block_id ON public.workflow_edges (source_block_id);
CREATE INDEX ix_workflow_edges_target_block_id ON public.workflow_edges (target_block_id);
CREATE INDEX ix_agent_memories_agent_id ON public.agent_memories (agent_id);
CREATE INDEX ix_agent_memories_session_id ON public.agent_memories (session_id);

-- The execution history's indexes (0002: history pages, the dashboard's
-- recent runs, the stale-run check) are in sql/partitions/execution_tables.sql
-- since 0016 partitioned those tables.

-- Configuration search (0003): containment `configuration @> '{...}'` and
-- `graph_definition @> '{"nodes": [{"type": ...}]}'` through GIN
-- jsonb_path_ops (a third of jsonb_ops' size; it serves exactly @>), and one
-- key by equality through expression indexes.
CREATE INDEX ix_agents_config_gin ON public.agents USING gin (configuration jsonb_path_ops);
CREATE INDEX ix_workflows_graph_gin ON public.workflows USING gin (graph_definition jsonb_path_ops);
CREATE INDEX ix_agents_llm_provider ON public.agents ((configuration ->> 'llm_provider'));
CREATE INDEX ix_agents_llm_model ON public.agents ((configuration ->> 'llm_model'));

-- The memory lifecycle (0006, keyed by (age, id) since 0021): one partial
-- index per default policy of agentdb.memory_policies, so each cleanup batch
-- is found in an index-only scan from where the previous one stopped and
-- deleted as one range of it. The predicates and the age are the text
-- agentdb.build_expiry_predicate() writes; the long-term index includes the
-- two columns of its age, without which no scan of it is index-only.
CREATE INDEX ix_agent_memories_short_term_created_id ON public.agent_memories (created_at, id)
    WHERE type = 'short_term';
CREATE INDEX ix_agent_memories_long_term_low_accessed_id
    ON public.agent_memories ((coalesce(last_accessed_at, created_at)), id)
    INCLUDE (last_accessed_at, created_at)
    WHERE type = 'long_term' AND importance = 'low';
CREATE INDEX ix_agent_memories_episodic_low_created_id ON public.agent_memories (created_at, id)
    WHERE type = 'episodic' AND importance = 'low';
-- Consolidation (0021): the few short-term memories recalled often enough to
-- promote, without reading every short-term memory's row.
CREATE INDEX ix_agent_memories_short_term_recalled ON public.agent_memories (created_at)
    WHERE type = 'short_term' AND access_count >= 3;
