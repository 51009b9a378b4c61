-- agentdb.retention_policies: how long the history of each time-partitioned
-- table is kept. One row per table, edited by DBAs (agentdb_admin);
-- agentdb.run_retention_maintenance reads the enabled rows.
--
-- A table named here is partitioned by RANGE on one timestamp column, by
-- month (partitions <table>_pYYYY_MM, bounds the first of a month, UTC, no
-- default partition). Retention drops a partition whole once its upper
-- bound is at least `keep` old (and never the one holding the current
-- month, nor a later one); upkeep keeps the current month and `premake`
-- months ahead created. The CHECK constraints are the guarantee; the trigger
-- agentdb.validate_retention_policy() (validate_retention_policy.sql) runs
-- first and turns a bad value into an error naming the column.
-- table_name is a regclass: it follows a rename; pg_upgrade keeps regclass
-- values (the oids of user tables are preserved).
CREATE TABLE agentdb.retention_policies (
    table_name  regclass PRIMARY KEY,
    keep        interval NOT NULL DEFAULT interval '90 days',
    premake     integer NOT NULL DEFAULT 3,
    enabled     boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    dropped_before timestamptz,
    CONSTRAINT retention_policies_keep_check
        CHECK (keep >= interval '1 day' AND keep <= interval '100 years'),
    CONSTRAINT retention_policies_premake_check CHECK (premake BETWEEN 1 AND 24)
);

COMMENT ON TABLE agentdb.retention_policies IS
    'Retention of time-partitioned history: drop the monthly partitions of table_name older than keep, keep premake months created ahead; edited by agentdb_admin';
COMMENT ON COLUMN agentdb.retention_policies.table_name IS
    'A table partitioned by RANGE on one timestamp column, monthly, owned by the owner of schema agentdb';
COMMENT ON COLUMN agentdb.retention_policies.keep IS
    'A partition whose upper bound is at least this old is dropped; 1 day to 100 years (default 90 days)';
COMMENT ON COLUMN agentdb.retention_policies.premake IS
    'Months created ahead of the current one (1 to 24, default 3)';
COMMENT ON COLUMN agentdb.retention_policies.dropped_before IS
    'Set by retention: the upper bound of the latest partition it dropped (NULL: none); the stats do not verify or rebuild days before it';
COMMENT ON COLUMN agentdb.retention_policies.enabled IS
    'Disabled rules are neither previewed nor applied, and their tables get no upkeep';

GRANT SELECT, INSERT, UPDATE, DELETE ON agentdb.retention_policies TO agentdb_admin;
