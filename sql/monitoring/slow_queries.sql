-- agentdb.slow_queries: statements that pyglue.monitoring found slower than
-- its threshold, written by agentdb.record_slow_query() (the app never gets
-- INSERT on the table) and kept bounded by agentdb.purge_slow_queries(),
-- which the job agentdb-purge-slow-queries runs every hour.
-- The statement is the normalized shape (literals and parameters replaced
-- by ?), truncated: parameters never reach this table.

CREATE TABLE agentdb.slow_queries (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_ms       double precision NOT NULL CHECK (duration_ms >= 0),
    statement         text NOT NULL CHECK (length(statement) <= 2000),
    database_user     text NOT NULL DEFAULT session_user,
    application_name  text
);
-- the purge deletes by age and by rank of age; readers ask for the latest
CREATE INDEX slow_queries_recorded_at ON agentdb.slow_queries (recorded_at);
COMMENT ON TABLE agentdb.slow_queries IS
    'Slow statements reported by pyglue.monitoring (normalized, truncated, never parameters); kept bounded by agentdb.purge_slow_queries()';

GRANT SELECT ON agentdb.slow_queries TO agentdb_admin;
