-- Citus conversion, last step (pyglue install --citus): every agentdb
-- routine becomes a distributed object, so it exists on every node (a stats
-- trigger runs on the worker holding the shard, and calls other agentdb
-- routines there) and a later CREATE OR REPLACE reaches the workers too.
-- The dashboards, whose first argument p_user_id scopes every statement
-- they run, are delegated: the coordinator sends the whole call to the node
-- holding that user's shard of user_execution_stats, one round trip.
DO $$
DECLARE
    v_routine regprocedure;
BEGIN
    FOR v_routine IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'agentdb'::regnamespace
           AND p.proname IN ('user_dashboard', 'user_daily_stats', 'agent_stats_summary')
         ORDER BY 1
    LOOP
        PERFORM create_distributed_function(v_routine, 'p_user_id',
                                            colocate_with => 'public.user_execution_stats');
    END LOOP;
    FOR v_routine IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'agentdb'::regnamespace
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_dist_object o
                            WHERE o.classid = 'pg_catalog.pg_proc'::regclass AND o.objid = p.oid)
         ORDER BY 1
    LOOP
        PERFORM create_distributed_function(v_routine);
    END LOOP;
END
$$;
