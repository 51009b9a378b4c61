-- agentdb.consolidate_memories: short_term memories recalled at least 3
-- times and older than 12 hours become long_term, importance at least medium;
-- for one agent or for all; the boundaries of both conditions.
BEGIN;
\ir memory_fixture.psql
SELECT plan(12);

CREATE TEMP TABLE cases (label text PRIMARY KEY, id uuid NOT NULL, promoted boolean NOT NULL);
INSERT INTO cases VALUES
    ('3 recalls, 13 h',              pg_temp.mem('short_term', 'low', '13 hours', '1 hour', 3), true),
    ('3 recalls, 12 h + 1 us',       pg_temp.mem('short_term', 'low', '12 hours 1 microsecond', '1 hour', 3), true),
    ('3 recalls, exactly 12 h',      pg_temp.mem('short_term', 'low', '12 hours', '1 hour', 3), false),
    ('2 recalls, 20 h',              pg_temp.mem('short_term', 'medium', '20 hours', '1 hour', 2), false),
    ('9 recalls, 30 h (past 24 h)',  pg_temp.mem('short_term', 'medium', '30 hours', '1 hour', 9), true),
    ('high, 5 recalls, 13 h',        pg_temp.mem('short_term', 'high', '13 hours', '1 hour', 5), true),
    ('episodic, 5 recalls, 13 h',    pg_temp.mem('episodic', 'low', '13 hours', '1 hour', 5), false),
    ('long_term low, 5 recalls',     pg_temp.mem('long_term', 'low', '13 hours', '1 hour', 5), false),
    ('agent two, 4 recalls, 15 h',   pg_temp.mem('short_term', 'low', '15 hours', '1 hour', 4, '00000000-0000-0000-0000-0000000000a2'), true);

SELECT is(agentdb.consolidate_memories('00000000-0000-0000-0000-0000000000a2'), 1, 'one agent: only its memory');
SELECT is((SELECT type FROM public.agent_memories m JOIN cases c USING (id) WHERE c.label = 'agent two, 4 recalls, 15 h'),
          'long_term', 'agent two''s memory is long_term');
SELECT is((SELECT count(*) FROM public.agent_memories WHERE type = 'short_term'
              AND agent_id = '00000000-0000-0000-0000-0000000000a1'), 6::bigint,
          'agent one''s memories are untouched');

SELECT is(agentdb.consolidate_memories(), 4, 'all agents: the four remaining candidates');
SELECT set_eq(
    $$SELECT c.label FROM cases c JOIN public.agent_memories m USING (id)
       WHERE m.type = 'long_term' AND c.label NOT LIKE 'long_term%'$$,
    'SELECT label FROM cases WHERE promoted',
    'exactly the short_term memories recalled 3+ times and older than 12 hours are promoted');
SELECT results_eq(
    $$SELECT m.importance::text FROM public.agent_memories m JOIN cases c USING (id)
       WHERE c.promoted ORDER BY c.label$$,
    $$VALUES ('medium'::text), ('medium'), ('medium'), ('medium'), ('high')$$,
    'promoted memories are medium; a high one stays high');
SELECT is((SELECT count(*) FROM public.agent_memories m JOIN cases c USING (id)
            WHERE c.promoted AND m.updated_at <> timezone('utc', now())), 0::bigint,
          'updated_at is set on the promoted rows');
SELECT is((SELECT count(*) FROM public.agent_memories m JOIN cases c USING (id)
            WHERE NOT c.promoted AND m.updated_at <> m.created_at), 0::bigint,
          'the others are not written');
SELECT is(agentdb.consolidate_memories(), 0, 'a second run promotes nothing');
SELECT is(agentdb.consolidate_memories(gen_random_uuid()), 0, 'an unknown agent: nothing');

SET LOCAL TimeZone = 'America/Los_Angeles';
SELECT is(pg_temp.mem('short_term', 'low', '12 hours 1 second', NULL, 3) IS NOT NULL, true,
          'one more candidate, inserted in another time zone');
SELECT is(agentdb.consolidate_memories(), 1, 'the 12-hour boundary does not move with the session time zone');

SELECT * FROM finish();
ROLLBACK;
