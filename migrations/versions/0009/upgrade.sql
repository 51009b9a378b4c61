-- A database that reached 0008 before job registration had one routine
-- gets what 0004 now installs: register_job and unregister_job (run just
-- before this file), the registry's comment, and cron_available no longer
-- executable by PUBLIC.
COMMENT ON TABLE agentdb.scheduled_jobs IS
    'The jobs agentdb.schedule_maintenance() creates in pg_cron (by job name); each capability registers its own with agentdb.register_job()';
REVOKE EXECUTE ON FUNCTION agentdb.cron_available() FROM PUBLIC;
