-- Citus variant (pyglue install --citus) of sql/stats/track_workflow_execution_stats.sql:
-- the same deltas; a moved run is looked up by (user_id, id), the key
-- Citus routes (the co-located shard on this node). The triggers are the
-- single-node file's.
--
-- agentdb.track_workflow_execution_stats: record how a write of
-- workflow_executions changes workflow_execution_stats, as appended deltas
-- (agentdb.workflow_stats_deltas).
--
-- Same rules and scheme as agentdb.track_agent_execution_stats: a run counts
-- on the UTC day it started, from the insert on; statuses and durations as
-- they are now; a changed day, workflow or user moves the contribution; the
-- writer only appends. No DELETE trigger: retention does not change history.
CREATE OR REPLACE FUNCTION agentdb.track_workflow_execution_stats()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_fold_every CONSTANT double precision := 1000;
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- a run moved to another month (deleted from one partition, inserted
        -- into another): its old contribution goes; a deleted run's stays
        IF EXISTS (SELECT FROM public.workflow_executions w WHERE w.user_id = OLD.user_id AND w.id = OLD.id) THEN
            INSERT INTO agentdb.workflow_stats_deltas VALUES
                (OLD.user_id, OLD.started_at::date, OLD.workflow_id, -1,
                 -(OLD.status = 'completed')::integer, -(OLD.status = 'failed')::integer,
                 -(OLD.status = 'cancelled')::integer, -(OLD.duration_ms IS NOT NULL)::integer,
                 -coalesce(OLD.duration_ms, 0)::bigint, NULL, OLD.duration_ms IS NOT NULL);
        END IF;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO agentdb.workflow_stats_deltas VALUES (
            NEW.user_id, NEW.started_at::date, NEW.workflow_id, 1,
            (NEW.status = 'completed')::integer, (NEW.status = 'failed')::integer,
            (NEW.status = 'cancelled')::integer, (NEW.duration_ms IS NOT NULL)::integer,
            coalesce(NEW.duration_ms, 0), NEW.duration_ms, false);
    ELSIF OLD.user_id = NEW.user_id AND OLD.workflow_id = NEW.workflow_id
          AND OLD.started_at::date = NEW.started_at::date THEN
        INSERT INTO agentdb.workflow_stats_deltas VALUES (
            NEW.user_id, NEW.started_at::date, NEW.workflow_id, 0,
            (NEW.status = 'completed')::integer - (OLD.status = 'completed')::integer,
            (NEW.status = 'failed')::integer - (OLD.status = 'failed')::integer,
            (NEW.status = 'cancelled')::integer - (OLD.status = 'cancelled')::integer,
            (NEW.duration_ms IS NOT NULL)::integer - (OLD.duration_ms IS NOT NULL)::integer,
            coalesce(NEW.duration_ms, 0)::bigint - coalesce(OLD.duration_ms, 0),
            CASE WHEN OLD.duration_ms IS DISTINCT FROM NEW.duration_ms THEN NEW.duration_ms END,
            OLD.duration_ms IS NOT NULL AND OLD.duration_ms IS DISTINCT FROM NEW.duration_ms);
    ELSE
        INSERT INTO agentdb.workflow_stats_deltas VALUES
            (OLD.user_id, OLD.started_at::date, OLD.workflow_id, -1,
             -(OLD.status = 'completed')::integer, -(OLD.status = 'failed')::integer,
             -(OLD.status = 'cancelled')::integer, -(OLD.duration_ms IS NOT NULL)::integer,
             -coalesce(OLD.duration_ms, 0)::bigint, NULL, OLD.duration_ms IS NOT NULL),
            (NEW.user_id, NEW.started_at::date, NEW.workflow_id, 1,
             (NEW.status = 'completed')::integer, (NEW.status = 'failed')::integer,
             (NEW.status = 'cancelled')::integer, (NEW.duration_ms IS NOT NULL)::integer,
             coalesce(NEW.duration_ms, 0), NEW.duration_ms, false);
    END IF;
    IF random() * c_fold_every < 1 THEN
        PERFORM agentdb.fold_stats_if_free();
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.track_workflow_execution_stats() IS
    'Trigger on workflow_executions (insert, counted updates, a move between months): append the change to workflow execution stats to agentdb.workflow_stats_deltas; deletes (retention) do not change it';
REVOKE EXECUTE ON FUNCTION agentdb.track_workflow_execution_stats() FROM PUBLIC;
