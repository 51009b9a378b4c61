-- Back to 0011: drop this revision's job, routines and policy table (the
-- revision then runs the stats routines 0010 and 0011 installed). Partitions
-- upkeep created stay: they are the tables' own. A table upkeep registered
-- with pg_partman is taken out of partman.part_config.
SELECT agentdb.unregister_job('agentdb-retention-maintenance');
DO $$
DECLARE
    v_partman name;
BEGIN
    SELECT n.nspname INTO v_partman
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_partman';
    IF v_partman IS NOT NULL THEN
        EXECUTE pg_catalog.format(
            'DELETE FROM %I.part_config c USING agentdb.retention_policies p
              WHERE c.parent_table = (SELECT n.nspname || ''.'' || k.relname
                                        FROM pg_catalog.pg_class k
                                        JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace
                                       WHERE k.oid = p.table_name)', v_partman);
    END IF;
END
$$;
DROP PROCEDURE agentdb.run_retention_maintenance(boolean, interval, bigint);
DROP FUNCTION agentdb.retention_horizon();
DROP FUNCTION agentdb.create_partitions_ahead(regclass, integer, boolean, interval);
DROP FUNCTION agentdb.preview_retention();
DROP FUNCTION agentdb.drop_expired_partitions(timestamptz, interval);
DROP FUNCTION agentdb.expired_partitions(timestamptz);
DROP TABLE agentdb.retention_policies;
DROP FUNCTION agentdb.validate_retention_policy();
DROP FUNCTION agentdb.monthly_partitions(regclass);
DROP FUNCTION agentdb.partman_available();
