-- Run workflow at head: agentdb.workflow_document, then the same writes as the baseline
-- (agentdb does not change the write path, only what it triggers), except
-- that metrics carry their run's started_at and the updates name it, so
-- that each write goes to its month's partition (0016).
\set n random(1, :picks)
\set r random(1, 999999999999999)
\set d random(50, 5000)
BEGIN;
SELECT user_id, workflow_id, cardinality(blocks) AS nb, blocks, blocks[1] AS b1, blocks[2] AS b2, blocks[3] AS b3, blocks[4] AS b4, blocks[5] AS b5, blocks[6] AS b6, blocks[7] AS b7, blocks[8] AS b8 FROM public.bench_pick WHERE n = :n \gset
SELECT agentdb.workflow_document(:workflow_id);
INSERT INTO public.workflow_executions (id, workflow_id, user_id, session_id, status, input_data, started_at) VALUES (md5(:r::text || ':' || :client_id::text)::uuid, :workflow_id, :user_id, 'load-' || :r::text, 'running', '{"message": "load test"}', localtimestamp) RETURNING (extract(epoch FROM started_at) * 1000000)::bigint AS started_us \gset
INSERT INTO public.agent_executions (id, agent_id, user_id, workflow_execution_id, session_id, status, input_data, started_at) SELECT md5(:r::text || ':' || :client_id::text || ':' || b.k)::uuid, b.a, :user_id, md5(:r::text || ':' || :client_id::text)::uuid, 'load-' || :r::text, 'running', json_build_object('step', b.k)::jsonb, localtimestamp FROM unnest(:blocks::uuid[]) WITH ORDINALITY AS b (a, k);
COMMIT;
BEGIN;
\if :nb >= 1
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 1 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 1)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
\if :nb >= 2
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 2 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 2)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
\if :nb >= 3
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 3 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 3)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
\if :nb >= 4
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 4 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 4)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
\if :nb >= 5
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 5 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 5)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
\if :nb >= 6
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 6 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 6)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
\if :nb >= 7
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 7 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 7)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
\if :nb >= 8
UPDATE public.agent_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d + 8 WHERE id = md5(:r::text || ':' || :client_id::text || ':' || 8)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
\endif
INSERT INTO public.execution_metrics (id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost, started_at) SELECT gen_random_uuid(), md5(:r::text || ':' || :client_id::text || ':' || k)::uuid, 1 + k % 8, 750 + k, 250, 1000 + k, 0.002, timestamp 'epoch' + :started_us * interval '1 microsecond' FROM generate_series(1, :nb) AS k;
UPDATE public.workflow_executions SET status = 'completed', completed_at = localtimestamp, duration_ms = :d WHERE id = md5(:r::text || ':' || :client_id::text)::uuid AND started_at = timestamp 'epoch' + :started_us * interval '1 microsecond';
COMMIT;
