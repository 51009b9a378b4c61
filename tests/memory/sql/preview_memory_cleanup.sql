-- agentdb.preview_memory_cleanup: per-policy rows and bytes, changes nothing,
-- and equals what cleanup_expired_memories() then deletes, also when two
-- policies overlap and when a policy is disabled.
BEGIN;
\ir memory_fixture.psql
SELECT plan(13);

SELECT results_eq(
    'SELECT policy_name, rows_to_delete, approx_bytes FROM agentdb.preview_memory_cleanup()',
    $$VALUES ('episodic_low'::text, 0::bigint, 0::bigint), ('long_term_low', 0::bigint, 0::bigint),
             ('short_term', 0::bigint, 0::bigint)$$,
    'an empty table: every enabled policy, nothing to delete'
);

-- a mix: some expired under each policy, some kept
\o /dev/null
SELECT pg_temp.mem('short_term', t.i, (h || ' hours')::interval)
  FROM unnest(ARRAY['low', 'medium', 'high']) AS t(i), generate_series(1, 48, 4) AS h;
SELECT pg_temp.mem('long_term', t.i, (d || ' days')::interval,
                   CASE WHEN d % 3 = 0 THEN ((d / 3) || ' days')::interval END)
  FROM unnest(ARRAY['low', 'medium', 'high']) AS t(i), generate_series(10, 400, 10) AS d;
SELECT pg_temp.mem('episodic', t.i, (d || ' days')::interval)
  FROM unnest(ARRAY['low', 'medium', 'high']) AS t(i), generate_series(1, 60, 2) AS d;
\o

SELECT results_eq(
    $$SELECT policy_name, memory_type, importance, age_basis, max_age, cutoff
        FROM agentdb.preview_memory_cleanup()$$,
    $$VALUES ('episodic_low'::text, 'episodic'::text, 'low'::text, 'created'::text,
              interval '30 days', timezone('utc', now()) - interval '30 days'),
             ('long_term_low', 'long_term', 'low', 'last_access', interval '90 days',
              timezone('utc', now()) - interval '90 days'),
             ('short_term', 'short_term', NULL, 'created', interval '24 hours',
              timezone('utc', now()) - interval '24 hours')$$,
    'each policy with its cut-off in UTC'
);

CREATE TEMP TABLE preview AS SELECT * FROM agentdb.preview_memory_cleanup();
-- short_term: 12 ages (1..45 h), 6 past 24 h, three importances
-- long_term low: ages 10..400 d; recalled (every 3rd) at age/3: expired when
--   coalesce(last, created) > 90 d
-- episodic low: ages 1..59 d, odd: 15 past 30 d
SELECT results_eq(
    'SELECT policy_name, rows_to_delete FROM preview',
    $$VALUES ('episodic_low'::text, 15::bigint),
             ('long_term_low', (SELECT count(*) FROM generate_series(10, 400, 10) AS d
                                 WHERE CASE WHEN d % 3 = 0 THEN d / 3 ELSE d END > 90)),
             ('short_term', 18::bigint)$$,
    'rows each policy would delete'
);
SELECT ok(bool_and(approx_bytes >= rows_to_delete * 60 AND approx_bytes <= rows_to_delete * 400),
          'approx_bytes is a plausible row size (60..400 bytes a row for short contents)')
  FROM preview;
SELECT is(
    (SELECT approx_bytes FROM preview WHERE policy_name = 'short_term'),
    (SELECT sum(pg_column_size(m.*))::bigint FROM public.agent_memories m
      WHERE type = 'short_term' AND created_at < timezone('utc', now()) - interval '24 hours'),
    'approx_bytes is the stored size of those rows');
SELECT is((SELECT count(*) FROM public.agent_memories), 3 * 12 + 3 * 40 + 3 * 30::bigint,
          'the preview changed nothing');

CREATE TEMP TABLE cleaned AS SELECT * FROM agentdb.cleanup_expired_memories(7);
SELECT set_eq(
    'SELECT policy_name, rows_deleted FROM cleaned',
    'SELECT policy_name, rows_to_delete FROM preview',
    'the cleanup deletes exactly what the preview said, policy by policy'
);
SELECT is((SELECT count(*) FROM public.agent_memories),
          3 * 12 + 3 * 40 + 3 * 30 - (SELECT sum(rows_to_delete) FROM preview)::bigint,
          'and the table lost exactly those rows');
SELECT is((SELECT sum(rows_to_delete) FROM agentdb.preview_memory_cleanup()), 0::numeric,
          'afterwards the preview is empty');

-- overlapping policies: a row two policies match is counted once, under the first
INSERT INTO agentdb.memory_policies (policy_name, memory_type, importance, age_basis, max_age)
VALUES ('episodic_any_45d', 'episodic', NULL, 'created', interval '45 days');
\o /dev/null
SELECT pg_temp.mem('episodic', 'low', '50 days');    -- both policies: episodic_any_45d first
SELECT pg_temp.mem('episodic', 'high', '50 days');   -- episodic_any_45d only
SELECT pg_temp.mem('episodic', 'low', '35 days');    -- episodic_low only
\o
CREATE TEMP TABLE preview2 AS SELECT * FROM agentdb.preview_memory_cleanup();
SELECT results_eq(
    'SELECT policy_name, rows_to_delete FROM preview2',
    -- episodic_any_45d: the two 50-day rows and the 14 medium/high episodic
    -- rows of the mix older than 45 days (47, 49, ..., 59 days)
    $$VALUES ('episodic_any_45d'::text, 16::bigint), ('episodic_low', 1::bigint),
             ('long_term_low', 0::bigint), ('short_term', 0::bigint)$$,
    'overlapping policies: each row counted once, under the first policy by name'
);
SELECT set_eq(
    'SELECT policy_name, rows_deleted FROM agentdb.cleanup_expired_memories()',
    'SELECT policy_name, rows_to_delete FROM preview2',
    'and the cleanup attributes the deletions the same way'
);

UPDATE agentdb.memory_policies SET enabled = false WHERE policy_name = 'long_term_low';
SELECT results_eq(
    'SELECT policy_name FROM agentdb.preview_memory_cleanup()',
    $$VALUES ('episodic_any_45d'::text), ('episodic_low'), ('short_term')$$,
    'a disabled policy is not previewed'
);
SELECT is(
    (SELECT array_agg(c) FROM pg_proc, unnest(proconfig) c
      WHERE oid = 'agentdb.preview_memory_cleanup()'::regprocedure),
    ARRAY['search_path=pg_catalog, pg_temp'],
    'SECURITY DEFINER with a safe search_path');

SELECT * FROM finish();
ROLLBACK;
