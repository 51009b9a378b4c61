-- agentdb.scheduled_jobs: the registry of agentdb's jobs. Each capability
-- registers its jobs with agentdb.register_job() (its jobs.sql);
-- agentdb.schedule_maintenance() hands them all to pg_cron by job name.
-- Only the owner writes it: pg_cron runs a job as the role that scheduled
-- it, so a row written by a less privileged role could run as a superuser.

CREATE TABLE agentdb.scheduled_jobs (
    job_name     text PRIMARY KEY CHECK (job_name ~ '^agentdb-[a-z0-9-]+$'),
    schedule     text NOT NULL,
    command      text NOT NULL,
    description  text NOT NULL
);
COMMENT ON TABLE agentdb.scheduled_jobs IS
    'The jobs agentdb.schedule_maintenance() creates in pg_cron (by job name); each capability registers its own with agentdb.register_job()';

GRANT SELECT ON agentdb.scheduled_jobs TO agentdb_admin;
