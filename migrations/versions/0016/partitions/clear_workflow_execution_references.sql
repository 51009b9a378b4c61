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
    IF EXISTS (SELECT FROM public.workflow_executions w WHERE w.id = OLD.id) THEN
        RETURN NULL;
    END IF;
    UPDATE public.agent_executions e
       SET workflow_execution_id = NULL
     WHERE e.workflow_execution_id = OLD.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.clear_workflow_execution_references() IS
    'Trigger on workflow_executions: a deleted workflow run''s agent runs lose their reference (ON DELETE SET NULL of the foreign key a partitioned table cannot have); a run moved to another month keeps them';
REVOKE EXECUTE ON FUNCTION agentdb.clear_workflow_execution_references() FROM PUBLIC;

CREATE OR REPLACE TRIGGER agentdb_clear_workflow_execution_references
    AFTER DELETE ON public.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION agentdb.clear_workflow_execution_references();
