-- agentdb's own schema: the run log every job writes, the registry of jobs
-- that schedule_maintenance() hands to pg_cron, and the two roles.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agentdb_app') THEN
        CREATE ROLE agentdb_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agentdb_admin') THEN
        CREATE ROLE agentdb_admin NOLOGIN;
    END IF;
END
$roles$;

CREATE SCHEMA agentdb;
COMMENT ON SCHEMA agentdb IS
    'agentdb: maintenance, consolidation, rollups and monitoring for the platform''s tables';

CREATE TABLE agentdb.maintenance_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name     text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    counts       jsonb NOT NULL DEFAULT '{}',
    error        text,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX maintenance_runs_job_started ON agentdb.maintenance_runs (job_name, started_at DESC);
COMMENT ON TABLE agentdb.maintenance_runs IS
    'One row per run of an agentdb job: status running/succeeded/failed/skipped, counts per policy or step, the error of a failed run';

CREATE TABLE agentdb.scheduled_jobs (
    job_name     text PRIMARY KEY CHECK (job_name ~ '^agentdb-[a-z0-9-]+$'),
    schedule     text NOT NULL,
    command      text NOT NULL,
    description  text NOT NULL
);
COMMENT ON TABLE agentdb.scheduled_jobs IS
    'The jobs agentdb.schedule_maintenance() creates in pg_cron (by job name); each feature''s migration registers its own';

REVOKE ALL ON SCHEMA agentdb FROM PUBLIC;
GRANT USAGE ON SCHEMA agentdb TO agentdb_app, agentdb_admin;
GRANT agentdb_app TO agentdb_admin;
GRANT SELECT ON agentdb.maintenance_runs, agentdb.scheduled_jobs TO agentdb_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA agentdb REVOKE EXECUTE ON ROUTINES FROM PUBLIC;
