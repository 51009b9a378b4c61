-- Back to 0020: drop this revision's cleanup (the revision then runs the
-- versions 0015 and 0011 installed, with their comments and grants).
DROP FUNCTION agentdb.cleanup_expired_memories(integer, integer, jsonb);
