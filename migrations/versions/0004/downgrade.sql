-- Take agentdb's jobs out of pg_cron, then drop the schema with everything
-- in it. The roles stay: they are cluster-wide and other databases may use them.
SELECT agentdb.unschedule_maintenance();
DROP SCHEMA agentdb CASCADE;
