-- Revision 0020, down: the children's copy of their parent's user_id goes,
-- with the triggers that kept it. Catalog only (DROP COLUMN marks the
-- column dropped; its bytes stay in the rows until they are rewritten).
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
DROP FUNCTION IF EXISTS agentdb.take_agent_user_id();
DROP FUNCTION IF EXISTS agentdb.take_workflow_user_id();
DROP FUNCTION IF EXISTS agentdb.take_execution_user_id();
DROP FUNCTION IF EXISTS agentdb.pass_agent_user_id();
DROP FUNCTION IF EXISTS agentdb.pass_workflow_user_id();
DROP FUNCTION IF EXISTS agentdb.pass_execution_user_id();
ALTER TABLE public.agent_tools DROP COLUMN IF EXISTS user_id;
ALTER TABLE public.agent_knowledgebases DROP COLUMN IF EXISTS user_id;
ALTER TABLE public.agent_memories DROP COLUMN IF EXISTS user_id;
ALTER TABLE public.agent_blocks DROP COLUMN IF EXISTS user_id;
ALTER TABLE public.workflow_edges DROP COLUMN IF EXISTS user_id;
ALTER TABLE public.execution_metrics DROP COLUMN IF EXISTS user_id;
