-- Citus variant (pyglue install --citus) of sql/partitions/drop_expired_partitions.sql:
-- the same drops (Citus drops the partition's shards on every node), in
-- citus.multi_shard_modify_mode 'sequential' (this transaction only): Citus
-- refuses parallel DDL on a table with a foreign key to a reference table
-- (users) once that table was touched in the transaction.
--
-- agentdb.drop_expired_partitions: drop the partitions of one month that
-- agentdb.expired_partitions(now()) lists (lower bound = p_month), in its
-- drop_rank order, in the caller's transaction: a referencing table's
-- partition first, then the referenced one DETACHed and DROPped (PostgreSQL
-- refuses to DROP a partition a foreign key depends on, even empty), so the
-- month goes whole or not at all. Returns each partition dropped with the
-- rows and bytes it held.
--
-- Dropping a partition takes an ACCESS EXCLUSIVE lock on its parent for a
-- moment (a metadata change, whatever the rows): under p_lock_timeout the
-- DROP gives up (SQLSTATE 55P03) rather than queue behind a long
-- transaction with the platform's writes queued behind it; the next run
-- retries. The month holding now(), or a later one, is refused (a partition
-- of the current month is never dropped); so is any partition retention
-- does not list. Each drop moves the policy's dropped_before up to the
-- partition's upper bound (agentdb.retention_horizon). SECURITY DEFINER: the owner of the platform's tables drops
-- them; agentdb_admin decides only through agentdb.retention_policies.
CREATE OR REPLACE FUNCTION agentdb.drop_expired_partitions(
    p_month timestamptz,
    p_lock_timeout interval DEFAULT interval '500 milliseconds'
)
RETURNS TABLE (table_name regclass, partition_name text, rows_dropped bigint, bytes_dropped bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_row record;
    v_lock_timeout text := current_setting('lock_timeout');
    v_rows bigint;
    v_bytes bigint;
BEGIN
    IF p_month IS NULL OR NOT isfinite(p_month) THEN
        RAISE EXCEPTION 'p_month must be the finite lower bound of an expired partition, not %',
            coalesce(p_month::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' OR p_lock_timeout > interval '1 minute' THEN
        RAISE EXCEPTION 'p_lock_timeout must be an interval greater than zero and at most 1 minute, not %',
            coalesce(p_lock_timeout::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_month >= date_trunc('month', now(), 'UTC') THEN
        RAISE EXCEPTION 'the partitions from % hold the current month or a later one: they are never dropped', p_month
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('lock_timeout', (extract(epoch FROM p_lock_timeout) * 1000)::bigint::text, true);
    -- Citus: DDL on partitions of tables with a foreign key to a reference
    -- table (users) must use one connection per node in this transaction
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    FOR v_row IN SELECT e.table_name, e.partition_name, e.upper_bound, e.drop_rank
                   FROM agentdb.expired_partitions(now()) e
                  WHERE e.lower_bound = p_month
                  ORDER BY e.drop_rank, e.partition_name::text
    LOOP
        IF v_row.upper_bound > date_trunc('month', now(), 'UTC') THEN
            -- expired_partitions never lists one; checked again where it counts
            RAISE EXCEPTION 'partition % holds the current month or a later one: it is never dropped',
                v_row.partition_name::text
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('SELECT count(*) FROM %s', v_row.partition_name) INTO v_rows;
        v_bytes := pg_total_relation_size(v_row.partition_name);
        table_name := v_row.table_name;
        partition_name := v_row.partition_name::text;
        IF v_row.drop_rank > 0 THEN
            EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', v_row.table_name, v_row.partition_name);
        END IF;
        EXECUTE format('DROP TABLE %s', v_row.partition_name);
        -- the history before it is gone: agentdb.retention_horizon()
        UPDATE agentdb.retention_policies p
           SET dropped_before = greatest(p.dropped_before, v_row.upper_bound)
         WHERE p.table_name = v_row.table_name;
        rows_dropped := v_rows;
        bytes_dropped := v_bytes;
        RETURN NEXT;
    END LOOP;
    PERFORM set_config('lock_timeout', v_lock_timeout, true);
END
$$;
COMMENT ON FUNCTION agentdb.drop_expired_partitions(timestamptz, interval) IS
    'Drop the expired partitions of one month (lower bound p_month), referencing tables first, each under p_lock_timeout; never the current month or a later one; returns the rows and bytes each held';
REVOKE EXECUTE ON FUNCTION agentdb.drop_expired_partitions(timestamptz, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.drop_expired_partitions(timestamptz, interval) TO agentdb_admin;
