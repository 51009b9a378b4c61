-- Citus conversion, step 1 (pyglue install --citus): give user_id to the
-- platform's tables that reach their user only through a parent, so every
-- table but users can be distributed, and co-located, by user_id.
--
-- Each column is filled from the parent's owner, then made NOT NULL (Citus
-- routes a row by it). The parent is the one the table's foreign key names:
-- a tool, a knowledgebase link and a memory belong to their agent's user, a
-- block and an edge to their workflow's user, metrics to their execution's
-- user. An app that writes these tables on Citus passes user_id (the
-- coordinator must know the shard before the row exists). Idempotent.

ALTER TABLE public.agent_tools ADD COLUMN IF NOT EXISTS user_id uuid;
ALTER TABLE public.agent_knowledgebases ADD COLUMN IF NOT EXISTS user_id uuid;
ALTER TABLE public.agent_memories ADD COLUMN IF NOT EXISTS user_id uuid;
ALTER TABLE public.agent_blocks ADD COLUMN IF NOT EXISTS user_id uuid;
ALTER TABLE public.workflow_edges ADD COLUMN IF NOT EXISTS user_id uuid;
ALTER TABLE public.execution_metrics ADD COLUMN IF NOT EXISTS user_id uuid;

UPDATE public.agent_tools t SET user_id = a.user_id
  FROM public.agents a WHERE a.id = t.agent_id AND t.user_id IS DISTINCT FROM a.user_id;
UPDATE public.agent_knowledgebases t SET user_id = a.user_id
  FROM public.agents a WHERE a.id = t.agent_id AND t.user_id IS DISTINCT FROM a.user_id;
UPDATE public.agent_memories t SET user_id = a.user_id
  FROM public.agents a WHERE a.id = t.agent_id AND t.user_id IS DISTINCT FROM a.user_id;
UPDATE public.agent_blocks t SET user_id = w.user_id
  FROM public.workflows w WHERE w.id = t.workflow_id AND t.user_id IS DISTINCT FROM w.user_id;
UPDATE public.workflow_edges t SET user_id = w.user_id
  FROM public.workflows w WHERE w.id = t.workflow_id AND t.user_id IS DISTINCT FROM w.user_id;
UPDATE public.execution_metrics t SET user_id = e.user_id
  FROM public.agent_executions e WHERE e.id = t.execution_id AND t.user_id IS DISTINCT FROM e.user_id;

ALTER TABLE public.agent_tools ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE public.agent_knowledgebases ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE public.agent_memories ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE public.agent_blocks ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE public.workflow_edges ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE public.execution_metrics ALTER COLUMN user_id SET NOT NULL;
