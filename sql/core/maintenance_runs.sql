-- agentdb.maintenance_runs: the run log. Every job opens a row with
-- agentdb.begin_run() and closes it with agentdb.finish_run(); a job that
-- runs in batches keeps its counts up to date between batches, and closes
-- the rows of runs whose backend died.

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

GRANT SELECT ON agentdb.maintenance_runs TO agentdb_admin;
