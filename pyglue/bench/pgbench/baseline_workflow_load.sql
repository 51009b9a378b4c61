-- Workflow load at baseline: the workflow, then its blocks, edges and owner, then each
-- block's agent, one query each (lazy loads, the N+1 the serializer triggers).
\set n random(1, :picks)
BEGIN;
SELECT user_id, workflow_id, cardinality(blocks) AS nb, blocks, blocks[1] AS b1, blocks[2] AS b2, blocks[3] AS b3, blocks[4] AS b4, blocks[5] AS b5, blocks[6] AS b6, blocks[7] AS b7, blocks[8] AS b8 FROM public.bench_pick WHERE n = :n \gset
SELECT id, user_id, name, graph_definition FROM public.workflows WHERE id = :workflow_id LIMIT 1;
SELECT id, workflow_id, agent_id, type, name, position, config, sub_blocks FROM public.agent_blocks WHERE workflow_id = :workflow_id;
SELECT id, workflow_id, source_block_id, target_block_id, condition FROM public.workflow_edges WHERE workflow_id = :workflow_id;
SELECT id, email, name, role FROM public.users WHERE id = :user_id;
\if :nb >= 1
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b1;
\endif
\if :nb >= 2
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b2;
\endif
\if :nb >= 3
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b3;
\endif
\if :nb >= 4
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b4;
\endif
\if :nb >= 5
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b5;
\endif
\if :nb >= 6
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b6;
\endif
\if :nb >= 7
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b7;
\endif
\if :nb >= 8
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :b8;
\endif
COMMIT;
