-- agentdb.close_abandoned_runs: close as 'failed' the rows of a job still
-- marked running whose backend died. Only the holder of the job's advisory
-- lock (session level, key: the first 64 bits of md5(job name), the key
-- run_memory_maintenance takes) may call it: holding the lock proves no run
-- of that job is alive. SECURITY DEFINER, like begin_run. Returns the number
-- of rows closed.
CREATE FUNCTION agentdb.close_abandoned_runs(p_job_name text)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key bigint := ('x' || substr(md5(p_job_name), 1, 16))::bit(64)::bigint;
    v_closed integer;
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.granted
           AND l.objsubid = 1
           AND l.classid = ((v_key >> 32) & 4294967295)::oid
           AND l.objid = (v_key & 4294967295)::oid
    ) THEN
        RAISE EXCEPTION 'p_job_name %: this session does not hold the job''s advisory lock', p_job_name
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE agentdb.maintenance_runs AS r
       SET status = 'failed',
           finished_at = clock_timestamp(),
           error = 'abandoned: the backend running it ended before it finished '
                   '(terminated or crashed); found by the next run'
     WHERE r.job_name = p_job_name AND r.status = 'running';
    GET DIAGNOSTICS v_closed = ROW_COUNT;
    RETURN v_closed;
END
$$;
COMMENT ON FUNCTION agentdb.close_abandoned_runs(text) IS
    'Close as failed the running maintenance_runs rows of a job whose backend died; only the holder of the job''s advisory lock may call it';
REVOKE EXECUTE ON FUNCTION agentdb.close_abandoned_runs(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.close_abandoned_runs(text) TO agentdb_admin;
