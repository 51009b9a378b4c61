-- Chat turn at baseline: write the turn's two memories, recall the agent's latest 20, then
-- bump each one read, one UPDATE per row (the ids come back in one extra statement: pgbench
-- cannot keep a result set).
\set n random(1, :picks)
\set turn random(1, 1000)
\set s random(1, 20)
BEGIN;
SELECT user_id, agent_id FROM public.bench_pick WHERE n = :n \gset
INSERT INTO public.agent_memories (id, agent_id, session_id, type, importance, content, access_count, last_accessed_at, created_at) VALUES (gen_random_uuid(), :agent_id, 'chat-' || left(:user_id::text, 8) || '-' || :s::text, 'short_term', 'medium', 'turn ' || :turn::text || ' user: the user asked about the quarterly report', 0, NULL, localtimestamp), (gen_random_uuid(), :agent_id, 'chat-' || left(:user_id::text, 8) || '-' || :s::text, 'short_term', 'medium', 'turn ' || :turn::text || ' assistant: the user asked about the quarterly report', 0, NULL, localtimestamp);
SELECT id, agent_id, session_id, type, importance, content, access_count, last_accessed_at, created_at FROM public.agent_memories WHERE agent_id = :agent_id ORDER BY created_at DESC LIMIT 20;
SELECT cardinality(ids) AS nm, ids[1] AS m1, ids[2] AS m2, ids[3] AS m3, ids[4] AS m4, ids[5] AS m5, ids[6] AS m6, ids[7] AS m7, ids[8] AS m8, ids[9] AS m9, ids[10] AS m10, ids[11] AS m11, ids[12] AS m12, ids[13] AS m13, ids[14] AS m14, ids[15] AS m15, ids[16] AS m16, ids[17] AS m17, ids[18] AS m18, ids[19] AS m19, ids[20] AS m20 FROM (SELECT ARRAY(SELECT id FROM public.agent_memories WHERE agent_id = :agent_id ORDER BY created_at DESC LIMIT 20) AS ids) AS recalled \gset
\if :nm >= 1
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m1;
\endif
\if :nm >= 2
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m2;
\endif
\if :nm >= 3
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m3;
\endif
\if :nm >= 4
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m4;
\endif
\if :nm >= 5
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m5;
\endif
\if :nm >= 6
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m6;
\endif
\if :nm >= 7
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m7;
\endif
\if :nm >= 8
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m8;
\endif
\if :nm >= 9
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m9;
\endif
\if :nm >= 10
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m10;
\endif
\if :nm >= 11
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m11;
\endif
\if :nm >= 12
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m12;
\endif
\if :nm >= 13
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m13;
\endif
\if :nm >= 14
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m14;
\endif
\if :nm >= 15
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m15;
\endif
\if :nm >= 16
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m16;
\endif
\if :nm >= 17
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m17;
\endif
\if :nm >= 18
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m18;
\endif
\if :nm >= 19
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m19;
\endif
\if :nm >= 20
UPDATE public.agent_memories SET access_count = access_count + 1, last_accessed_at = localtimestamp WHERE id = :m20;
\endif
COMMIT;
