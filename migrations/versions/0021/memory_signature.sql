-- cleanup_expired_memories gains a parameter (p_resume) and a result column
-- (resume_after): a function's signature and result type change only by DROP
-- and CREATE. The files run next create it again, grants included, and
-- run_memory_maintenance, its one caller, in the same transaction.
DROP FUNCTION agentdb.cleanup_expired_memories(integer, integer);
