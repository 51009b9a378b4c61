-- The retention policies of the platform's execution history: 90 days,
-- 3 months made ahead, for workflow_executions, agent_executions and
-- execution_metrics, each only when it is partitioned by RANGE (0016
-- partitions them by month; before it, nothing is seeded and retention has
-- nothing to do). Seeded rows go through the validation trigger; each
-- policy's table then gets its current month and the months ahead.
INSERT INTO agentdb.retention_policies (table_name, keep, premake, description)
SELECT t.name::regclass, interval '90 days', 3, t.description
  FROM (VALUES ('public.workflow_executions', 'Workflow runs: monthly partitions, kept 90 days'),
               ('public.agent_executions', 'Agent runs: monthly partitions, kept 90 days'),
               ('public.execution_metrics', 'Execution metrics: monthly partitions with their agent runs, kept 90 days'))
       AS t (name, description)
  JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = pg_catalog.to_regclass(t.name)
 WHERE pt.partstrat = 'r'
ON CONFLICT (table_name) DO NOTHING;

SELECT agentdb.create_partitions_ahead(r.table_name, r.premake)
  FROM agentdb.retention_policies r
 ORDER BY r.table_name::text;
