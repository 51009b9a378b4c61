-- Back to 0011: drop this revision's cleanup (the revision then runs the
-- version 0011 installed, with its comment and grants).
DROP FUNCTION agentdb.cleanup_expired_memories(integer, integer);
