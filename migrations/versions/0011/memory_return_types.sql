-- cleanup_expired_memories and preview_memory_cleanup gain a column, the
-- error of a policy that failed: a function's result type changes only by
-- DROP and CREATE. The files run next create them again, grants included.
DROP FUNCTION agentdb.cleanup_expired_memories(integer, integer);
DROP FUNCTION agentdb.preview_memory_cleanup();
