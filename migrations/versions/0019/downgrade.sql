-- Back to 0015: drop this revision's agentdb.fold_stats_batch (the revision
-- then re-runs the CREATE FUNCTION that 0010 installed, with its comment and
-- grants). The callers are PL/pgSQL and look the function up at run time.
DROP FUNCTION agentdb.fold_stats_batch(integer);
