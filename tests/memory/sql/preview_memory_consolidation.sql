-- agentdb.preview_memory_consolidation: counts what consolidate_memories()
-- then promotes, for all agents and for one, changing nothing.
BEGIN;
\ir memory_fixture.psql
SELECT plan(7);

\o /dev/null
SELECT pg_temp.mem('short_term', t.i, (h || ' hours')::interval, '1 hour', n,
                   CASE WHEN h % 2 = 0 THEN '00000000-0000-0000-0000-0000000000a1'::uuid
                        ELSE '00000000-0000-0000-0000-0000000000a2'::uuid END)
  FROM unnest(ARRAY['low', 'medium', 'high']) AS t(i), generate_series(1, 30, 1) AS h,
       generate_series(0, 5) AS n;
\o

SELECT is(agentdb.preview_memory_consolidation(),
          (SELECT 3 * count(*)::integer FROM generate_series(13, 30) h, generate_series(3, 5) n),
          'all agents: recalled 3+ times (3, 4, 5), older than 12 hours (13..30)');
SELECT is(agentdb.preview_memory_consolidation('00000000-0000-0000-0000-0000000000a1'),
          (SELECT 3 * count(*)::integer FROM generate_series(13, 30) h, generate_series(3, 5) n WHERE h % 2 = 0),
          'one agent');
SELECT is((SELECT count(*) FROM public.agent_memories WHERE type = 'long_term'), 0::bigint, 'nothing changed');

SELECT is(agentdb.preview_memory_consolidation('00000000-0000-0000-0000-0000000000a1'),
          agentdb.consolidate_memories('00000000-0000-0000-0000-0000000000a1'),
          'the preview for one agent equals what consolidation then promotes');
SELECT is(agentdb.preview_memory_consolidation(), agentdb.consolidate_memories(),
          'and for all agents');
SELECT is(agentdb.preview_memory_consolidation(), 0, 'nothing left to promote');
SELECT is(provolatile, 's', 'STABLE') FROM pg_proc
 WHERE oid = 'agentdb.preview_memory_consolidation(uuid)'::regprocedure;

SELECT * FROM finish();
ROLLBACK;
