-- Agent search at head: pyglue.queries.find_agents (jsonb, expression index).
\set n random(1, :picks)
BEGIN;
SELECT provider FROM public.bench_pick WHERE n = :n \gset
SELECT id, user_id, name, description, configuration, is_active, created_at, updated_at FROM public.agents WHERE (configuration ->> 'llm_provider') = :provider ORDER BY name, id LIMIT 20;
COMMIT;
