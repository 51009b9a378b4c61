-- The memory lifecycle's jobs leave the registry and pg_cron first; then its
-- routines and its policies. (The partial indexes are dropped CONCURRENTLY
-- by the revision before this runs.)
SELECT agentdb.unregister_job('agentdb-memory-maintenance');
SELECT agentdb.unregister_job('agentdb-purge-cron-history');
DROP PROCEDURE agentdb.run_memory_maintenance(integer, boolean, bigint);
DROP FUNCTION agentdb.cleanup_expired_memories(integer, integer);
DROP FUNCTION agentdb.preview_memory_cleanup();
DROP FUNCTION agentdb.preview_memory_consolidation(uuid);
DROP FUNCTION agentdb.consolidate_memories(uuid);
DROP FUNCTION agentdb.touch_memories(uuid[]);
DROP FUNCTION agentdb.build_expiry_predicate(text, text, text, text);
REVOKE INSERT, UPDATE ON agentdb.maintenance_runs FROM agentdb_admin;
DROP TABLE agentdb.memory_policies;
DROP FUNCTION agentdb.validate_memory_policy();
