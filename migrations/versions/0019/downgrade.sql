-- Back to 0015: drop this revision's agentdb.fold_stats_batch and the three
-- *_stats_now reads (the revision then re-runs the CREATE FUNCTIONs that
-- 0010 installed, with their comments and grants). Their callers are
-- PL/pgSQL and look them up at run time.
DROP FUNCTION agentdb.fold_stats_batch(integer);
DROP FUNCTION agentdb.agent_stats_now(uuid, date, date);
DROP FUNCTION agentdb.user_stats_now(uuid, date, date);
DROP FUNCTION agentdb.workflow_stats_now(uuid, date, date);
