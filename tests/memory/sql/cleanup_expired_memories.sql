-- agentdb.cleanup_expired_memories: which rows each default policy deletes
-- and keeps at the boundaries (exactly at the cut-off, one microsecond past
-- it, importance medium and high, every type), per-policy counts, batching,
-- p_max_batches, resuming after a position (p_resume), and bad input.
BEGIN;
\ir memory_fixture.psql
SELECT plan(30);

CREATE TEMP TABLE cases (label text PRIMARY KEY, id uuid NOT NULL, expect_deleted boolean NOT NULL);
INSERT INTO cases VALUES
    -- short_term: 24 hours since creation, any importance, recalls do not matter
    ('st low at cut-off',        pg_temp.mem('short_term', 'low',    '24 hours'), false),
    ('st medium at cut-off',     pg_temp.mem('short_term', 'medium', '24 hours'), false),
    ('st high at cut-off',       pg_temp.mem('short_term', 'high',   '24 hours'), false),
    ('st low past cut-off',      pg_temp.mem('short_term', 'low',    '24 hours 1 microsecond'), true),
    ('st medium past cut-off',   pg_temp.mem('short_term', 'medium', '24 hours 1 microsecond'), true),
    ('st high past cut-off',     pg_temp.mem('short_term', 'high',   '24 hours 1 microsecond'), true),
    ('st recalled just now',     pg_temp.mem('short_term', 'low',    '25 hours', '1 second', 1), true),
    ('st fresh',                 pg_temp.mem('short_term', 'high',   '1 hour'), false),
    -- long_term low: 90 days since the last recall, or since creation if never recalled
    ('lt low never recalled, at cut-off',   pg_temp.mem('long_term', 'low', '90 days'), false),
    ('lt low never recalled, past cut-off', pg_temp.mem('long_term', 'low', '90 days 1 microsecond'), true),
    ('lt low recalled at cut-off',          pg_temp.mem('long_term', 'low', '400 days', '90 days', 2), false),
    ('lt low recalled past cut-off',        pg_temp.mem('long_term', 'low', '400 days', '90 days 1 microsecond', 2), true),
    ('lt low recalled recently',            pg_temp.mem('long_term', 'low', '400 days', '1 day', 7), false),
    ('lt medium never recalled, old',       pg_temp.mem('long_term', 'medium', '1000 days'), false),
    ('lt high never recalled, old',         pg_temp.mem('long_term', 'high', '1000 days'), false),
    -- episodic low: 30 days since creation, recalls do not matter
    ('ep low at cut-off',          pg_temp.mem('episodic', 'low', '30 days'), false),
    ('ep low past cut-off',        pg_temp.mem('episodic', 'low', '30 days 1 microsecond'), true),
    ('ep low recalled just now',   pg_temp.mem('episodic', 'low', '31 days', '1 second', 4), true),
    ('ep medium old',              pg_temp.mem('episodic', 'medium', '1000 days'), false),
    ('ep high old',                pg_temp.mem('episodic', 'high', '1000 days'), false);

CREATE TEMP TABLE result AS SELECT * FROM agentdb.cleanup_expired_memories();

SELECT results_eq(
    'SELECT policy_name, rows_deleted, batches, complete FROM result',
    $$VALUES ('episodic_low'::text, 2::bigint, 1, true),
             ('long_term_low', 2::bigint, 1, true),
             ('short_term', 4::bigint, 1, true)$$,
    'one batch per policy, counts per policy, in policy_name order'
);
SELECT set_eq(
    'SELECT label FROM cases c WHERE NOT EXISTS (SELECT FROM public.agent_memories m WHERE m.id = c.id)',
    'SELECT label FROM cases WHERE expect_deleted',
    'exactly the expired rows are deleted'
);
SELECT is(count(*), 12::bigint, 'the 12 rows at or inside their cut-off, or of a kept importance, remain')
  FROM public.agent_memories;
SELECT ok(EXISTS (SELECT FROM public.agent_memories m JOIN cases c USING (id) WHERE c.label = label_),
          label_ || ' is kept')
  FROM (VALUES ('st low at cut-off'), ('lt low recalled at cut-off'), ('ep low at cut-off'),
               ('lt low never recalled, at cut-off')) AS v(label_);

SELECT results_eq(
    'SELECT policy_name, rows_deleted, batches, complete FROM agentdb.cleanup_expired_memories()',
    $$VALUES ('episodic_low'::text, 0::bigint, 1, true),
             ('long_term_low', 0::bigint, 1, true),
             ('short_term', 0::bigint, 1, true)$$,
    'a second cleanup finds nothing'
);

-- batching: 25 expired short_term rows, batches of 10
INSERT INTO public.agent_memories (agent_id, type, importance, content, created_at)
SELECT '00000000-0000-0000-0000-0000000000a1', 'short_term', 'medium', 'batch',
       timezone('utc', now()) - interval '2 days' - g * interval '1 minute'
  FROM generate_series(1, 25) AS g;
SELECT results_eq(
    $$SELECT rows_deleted, batches, complete FROM agentdb.cleanup_expired_memories(10, 1)
       WHERE policy_name = 'short_term'$$,
    $$VALUES (10::bigint, 1, false)$$,
    'p_max_batches => 1 stops after one full batch and says it is not complete'
);
SELECT is(count(*), 15::bigint, 'the oldest 10 went first: 15 remain')
  FROM public.agent_memories WHERE content = 'batch';
SELECT is(max(created_at), timezone('utc', now()) - interval '2 days' - interval '1 minute',
          'the newest batch row is still there')
  FROM public.agent_memories WHERE content = 'batch';
SELECT is(min(created_at), timezone('utc', now()) - interval '2 days' - interval '15 minutes',
          'the rows deleted were the oldest (ORDER BY the age)')
  FROM public.agent_memories WHERE content = 'batch';
SELECT results_eq(
    $$SELECT rows_deleted, batches, complete FROM agentdb.cleanup_expired_memories(10)
       WHERE policy_name = 'short_term'$$,
    $$VALUES (15::bigint, 2, true)$$,
    'no batch limit: a full batch of 10, then a short one of 5, then done'
);
SELECT results_eq(
    $$SELECT rows_deleted, batches, complete FROM agentdb.cleanup_expired_memories(5)
       WHERE policy_name = 'short_term'$$,
    $$VALUES (0::bigint, 1, true)$$,
    'nothing left'
);
-- resuming: 12 expired short_term rows of one age (ties broken by id), batches of 5
INSERT INTO public.agent_memories (agent_id, type, importance, content, created_at)
SELECT '00000000-0000-0000-0000-0000000000a1', 'short_term', 'medium', 'resume',
       date_trunc('second', timezone('utc', now())) - interval '3 days'
  FROM generate_series(1, 12);
CREATE TEMP TABLE resume_rows AS SELECT id, created_at FROM public.agent_memories WHERE content = 'resume';
CREATE TEMP TABLE first_call AS
SELECT * FROM agentdb.cleanup_expired_memories(5, 1) WHERE policy_name = 'short_term';
SELECT results_eq('SELECT rows_deleted, batches, complete FROM first_call', $$VALUES (5::bigint, 1, false)$$,
                  'one batch of 5 of the 12');
SELECT is((SELECT resume_after FROM first_call),
          (SELECT jsonb_build_object('age', created_at, 'id', id) FROM resume_rows ORDER BY id OFFSET 4 LIMIT 1),
          'resume_after is the (age, id) of the last row the batch deleted');
-- a row of the same age but a lower id appears below the position
INSERT INTO public.agent_memories (id, agent_id, type, importance, content, created_at)
SELECT '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-0000000000a1', 'short_term',
       'medium', 'resume', min(created_at)
  FROM resume_rows;
SELECT results_eq(
    $$SELECT rows_deleted, batches, complete, resume_after FROM agentdb.cleanup_expired_memories(
          5, NULL, jsonb_build_object('short_term', (SELECT resume_after FROM first_call)))
       WHERE policy_name = 'short_term'$$,
    $$SELECT 7::bigint, 2, true, jsonb_build_object('age', timezone('utc', now()) - max_age,
                                                   'id', '00000000-0000-0000-0000-000000000000'::uuid)
        FROM agentdb.memory_policies WHERE policy_name = 'short_term'$$,
    'resumed: the other 7 in a full batch and a short one; done, the position moves to the cut-off'
);
SELECT is((SELECT array_agg(id::text) FROM public.agent_memories WHERE content = 'resume'),
          ARRAY['00000000-0000-0000-0000-000000000001'],
          'the row below the position waits for a call that starts from the oldest row');
SELECT results_eq(
    $$SELECT rows_deleted, complete FROM agentdb.cleanup_expired_memories(5)
       WHERE policy_name = 'short_term'$$,
    $$VALUES (1::bigint, true)$$,
    'without p_resume the cleanup starts from the oldest row'
);

INSERT INTO public.agent_memories (agent_id, type, importance, content, created_at)
SELECT '00000000-0000-0000-0000-0000000000a1', 'episodic', 'low', 'exact',
       timezone('utc', now()) - interval '40 days'
  FROM generate_series(1, 6);
SELECT results_eq(
    $$SELECT rows_deleted, batches, complete FROM agentdb.cleanup_expired_memories(3)
       WHERE policy_name = 'episodic_low'$$,
    $$VALUES (6::bigint, 3, true)$$,
    'a multiple of the batch size takes one more, empty batch to know it is done'
);

-- disabled policies are not applied
UPDATE agentdb.memory_policies SET enabled = false WHERE policy_name = 'short_term';
SELECT is(pg_temp.mem('short_term', 'low', '3 days')::text ~ '^[0-9a-f-]{36}$', true, 'one more expired short_term row');
SELECT results_eq(
    'SELECT policy_name FROM agentdb.cleanup_expired_memories()',
    $$VALUES ('episodic_low'::text), ('long_term_low')$$,
    'a disabled policy is skipped'
);
SELECT is(count(*), 1::bigint, 'its expired row stays')
  FROM public.agent_memories WHERE type = 'short_term' AND created_at < timezone('utc', now()) - interval '2 days';

-- bad input
SELECT throws_ok('SELECT * FROM agentdb.cleanup_expired_memories(0)', '22023',
                 'p_batch_size must be a positive integer, not 0', 'batch size 0 is refused');
SELECT throws_ok('SELECT * FROM agentdb.cleanup_expired_memories(-5)', '22023',
                 'p_batch_size must be a positive integer, not -5', 'a negative batch size is refused');
SELECT throws_ok('SELECT * FROM agentdb.cleanup_expired_memories(NULL)', '22023',
                 'p_batch_size must be a positive integer, not NULL', 'a NULL batch size is refused');
SELECT throws_ok('SELECT * FROM agentdb.cleanup_expired_memories(10, 0)', '22023',
                 'p_max_batches must be a positive integer or NULL (no limit), not 0',
                 'p_max_batches 0 is refused');
SELECT throws_ok($$SELECT * FROM agentdb.cleanup_expired_memories(10, NULL, '[]')$$, '22023',
                 'p_resume must be a JSON object {policy_name: resume_after} or NULL, not []',
                 'a p_resume that is not an object is refused');
SELECT throws_ok($$SELECT * FROM agentdb.cleanup_expired_memories(10, NULL, '{"episodic_low": {"age": "soon"}}')$$,
                 '22023',
                 'p_resume -> ''episodic_low'' must be {"age": timestamp, "id": uuid} as resume_after returned it, not {"age": "soon"}',
                 'a position that is not one resume_after returned is refused, naming its policy');
SELECT is(
    (SELECT prosecdef FROM pg_proc WHERE oid = 'agentdb.cleanup_expired_memories(integer, integer, jsonb)'::regprocedure),
    true, 'SECURITY DEFINER');

SELECT * FROM finish();
ROLLBACK;
