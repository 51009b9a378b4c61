-- Back to the routines 0006, 0007 and 0008 installed: drop this revision's
-- versions (the revision then runs the older frozen copies).
DROP PROCEDURE agentdb.run_memory_maintenance(integer, boolean, bigint);
DROP FUNCTION agentdb.verify_execution_stats(date, date);
DROP FUNCTION agentdb.perf_stats(integer);
