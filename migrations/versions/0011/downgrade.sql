-- Back to 0010: drop this revision's routines (the revision then runs the
-- versions 0004, 0006, 0007, 0008, 0009 and 0010 installed, and 0006's grant
-- of INSERT and UPDATE on the run log to agentdb_admin).
DROP FUNCTION agentdb.record_run_counts(bigint, jsonb);
DROP FUNCTION agentdb.close_abandoned_runs(text);
DROP FUNCTION agentdb.begin_run(text);
DROP FUNCTION agentdb.finish_run(bigint, text, jsonb, text);
DROP FUNCTION agentdb.record_slow_query(double precision, text, timestamptz);
DROP FUNCTION agentdb.cleanup_expired_memories(integer, integer);
DROP FUNCTION agentdb.preview_memory_cleanup();
DROP TRIGGER validate_memory_policy ON agentdb.memory_policies;
DROP FUNCTION agentdb.validate_memory_policy();
DROP PROCEDURE agentdb.fold_execution_stats(integer, bigint);
DROP FUNCTION agentdb.check_execution_stats(date);
