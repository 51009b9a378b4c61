-- agentdb.touch_memories: one statement bumps access_count and
-- last_accessed_at of many rows, returns the new values, ignores unknown ids,
-- counts a repeated id once and leaves other rows and updated_at alone.
BEGIN;
\ir memory_fixture.psql
SELECT plan(10);

CREATE TEMP TABLE m AS
SELECT pg_temp.mem('long_term', 'low', '10 days', '5 days', 2) AS a,
       pg_temp.mem('episodic', 'high', '3 days') AS b,
       pg_temp.mem('short_term', 'medium', '1 hour') AS c;

CREATE TEMP TABLE touched AS
SELECT t.* FROM m, agentdb.touch_memories(ARRAY[m.a, m.b, m.a, gen_random_uuid()]) AS t;

SELECT is((SELECT count(*) FROM touched), 2::bigint, 'two rows touched: the unknown id is ignored, a repeated one counted once');
SELECT set_eq(
    'SELECT id, access_count, last_accessed_at FROM touched',
    $$SELECT id, access_count, last_accessed_at FROM public.agent_memories, m WHERE id IN (m.a, m.b)$$,
    'it returns the new values of the rows');
SELECT is((SELECT access_count FROM public.agent_memories, m WHERE id = m.a), 3, 'access_count 2 -> 3');
SELECT is((SELECT access_count FROM public.agent_memories, m WHERE id = m.b), 1, 'access_count 0 -> 1');
SELECT is((SELECT last_accessed_at FROM public.agent_memories, m WHERE id = m.b),
          timezone('utc', now()), 'last_accessed_at is now, in UTC');
SELECT is((SELECT access_count FROM public.agent_memories, m WHERE id = m.c), 0, 'an unlisted row is untouched');
SELECT is((SELECT last_accessed_at FROM public.agent_memories, m WHERE id = m.c), NULL, 'and keeps no access time');
SELECT is((SELECT count(*) FROM public.agent_memories WHERE updated_at <> created_at), 0::bigint,
          'updated_at is not changed by a recall');

SET LOCAL TimeZone = 'Asia/Seoul';
SELECT is((SELECT t.last_accessed_at FROM m, agentdb.touch_memories(ARRAY[m.c]) AS t),
          (now() AT TIME ZONE 'UTC')::timestamp, 'UTC whatever the session time zone');
SELECT is((SELECT count(*) FROM agentdb.touch_memories('{}')), 0::bigint, 'an empty list touches nothing');

SELECT * FROM finish();
ROLLBACK;
