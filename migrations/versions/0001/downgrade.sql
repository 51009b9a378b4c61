-- Below the baseline: the platform's tables are dropped, children first.
DROP TABLE public.agent_memories;
DROP TABLE public.execution_metrics;
DROP TABLE public.agent_executions;
DROP TABLE public.workflow_executions;
DROP TABLE public.workflow_edges;
DROP TABLE public.agent_blocks;
DROP TABLE public.workflows;
DROP TABLE public.agent_knowledgebases;
DROP TABLE public.knowledgebases;
DROP TABLE public.agent_tools;
DROP TABLE public.agents;
DROP TABLE public.users;
