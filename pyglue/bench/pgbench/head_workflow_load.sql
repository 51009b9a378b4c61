-- Workflow load at head: agentdb.workflow_document, one statement.
\set n random(1, :picks)
BEGIN;
SELECT user_id, workflow_id, cardinality(blocks) AS nb, blocks, blocks[1] AS b1, blocks[2] AS b2, blocks[3] AS b3, blocks[4] AS b4, blocks[5] AS b5, blocks[6] AS b6, blocks[7] AS b7, blocks[8] AS b8 FROM public.bench_pick WHERE n = :n \gset
SELECT agentdb.workflow_document(:workflow_id);
COMMIT;
