-- Citus variant (pyglue install --citus) of sql/partitions/clear_workflow_execution_references.sql:
-- the same ON DELETE SET NULL, scoped by user_id: the agent runs that name
-- a workflow run are its user's, on the same node; the trigger is the
-- single-node file's.
--
-- agentdb.clear_workflow_execution_references: ON DELETE SET NULL of the
-- foreign key agent_executions.workflow_execution_id -> workflow_executions
-- that a partitioned workflow_executions cannot have (see
-- agentdb.check_workflow_execution_reference).
--
-- A workflow run whose started_at moves to another month is deleted from
-- one partition and inserted into another (the AFTER DELETE trigger fires
-- for it): when a row with that id still exists, it moved, and its agent
-- runs keep their reference.
CREATE OR REPLACE FUNCTION agentdb.clear_workflow_execution_references()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM public.workflow_executions w WHERE w.user_id = OLD.user_id AND w.id = OLD.id) THEN
        RETURN NULL;
    END IF;
    UPDATE public.agent_executions e
       SET workflow_execution_id = NULL
     WHERE e.user_id = OLD.user_id AND e.workflow_execution_id = OLD.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.clear_workflow_execution_references() IS
    'Trigger on workflow_executions: a deleted workflow run''s agent runs lose their reference (ON DELETE SET NULL of the foreign key a partitioned table cannot have); a run moved to another month keeps them';
REVOKE EXECUTE ON FUNCTION agentdb.clear_workflow_execution_references() FROM PUBLIC;
