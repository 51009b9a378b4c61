-- Chat turn at head: the two memories (pyglue.models), then pyglue.memory.recall: the latest
-- 20 and agentdb.touch_memories on them in one call.
\set n random(1, :picks)
\set turn random(1, 1000)
\set s random(1, 20)
BEGIN;
SELECT user_id, agent_id FROM public.bench_pick WHERE n = :n \gset
INSERT INTO public.agent_memories (agent_id, session_id, type, importance, content, last_accessed_at) VALUES (:agent_id, 'chat-' || left(:user_id::text, 8) || '-' || :s::text, 'short_term', 'medium', 'turn ' || :turn::text || ' user: the user asked about the quarterly report', NULL) RETURNING id, access_count, created_at, updated_at;
INSERT INTO public.agent_memories (agent_id, session_id, type, importance, content, last_accessed_at) VALUES (:agent_id, 'chat-' || left(:user_id::text, 8) || '-' || :s::text, 'short_term', 'medium', 'turn ' || :turn::text || ' assistant: the user asked about the quarterly report', NULL) RETURNING id, access_count, created_at, updated_at;
SELECT id, agent_id, session_id, type, importance, content, access_count, last_accessed_at, created_at, updated_at FROM public.agent_memories WHERE agent_id = :agent_id ORDER BY created_at DESC, id DESC LIMIT 20;
SELECT id, access_count, last_accessed_at FROM agentdb.touch_memories(ARRAY(SELECT id FROM public.agent_memories WHERE agent_id = :agent_id ORDER BY created_at DESC, id DESC LIMIT 20));
COMMIT;
