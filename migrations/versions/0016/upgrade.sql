-- Revision 0016, up: agentdb.retention_policies records the upper bound of
-- the latest partition retention dropped (the stats horizon), as the live
-- sql/partitions/retention_policies.sql declares it.
ALTER TABLE agentdb.retention_policies ADD COLUMN dropped_before timestamptz;
COMMENT ON COLUMN agentdb.retention_policies.dropped_before IS
    'Set by retention: the upper bound of the latest partition it dropped (NULL: none); the stats do not verify or rebuild days before it';
