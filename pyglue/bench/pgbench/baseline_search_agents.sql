-- Agent search at baseline: the plan's Agent.configuration['llm_provider'].astext on json.
\set n random(1, :picks)
BEGIN;
SELECT provider FROM public.bench_pick WHERE n = :n \gset
SELECT id, user_id, name, description, configuration FROM public.agents WHERE (configuration ->> 'llm_provider') = :provider ORDER BY name, id LIMIT 20;
COMMIT;
