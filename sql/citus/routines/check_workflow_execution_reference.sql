-- Citus variant (pyglue install --citus) of sql/partitions/check_workflow_execution_reference.sql:
-- the same check, by (user_id, id): an agent run can name only a workflow
-- run of its own user, which is on the same node (Citus routes the lookup
-- there); the trigger is the single-node file's.
--
-- agentdb.check_workflow_execution_reference: the foreign key
-- agent_executions.workflow_execution_id -> workflow_executions.id, which
-- PostgreSQL cannot declare since workflow_executions is partitioned (its
-- unique keys hold started_at, which an agent run does not carry).
--
-- Like the foreign key it replaces: a non-NULL workflow_execution_id must
-- name an existing workflow run, else SQLSTATE 23503 naming the old
-- constraint; the row found is locked FOR KEY SHARE, so a concurrent delete
-- of that workflow run waits for this transaction, and then its
-- agentdb.clear_workflow_execution_references sees this row and nulls it.
-- The lookup by id probes each partition's primary key index (id leads it).
CREATE OR REPLACE FUNCTION agentdb.check_workflow_execution_reference()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM public.workflow_executions w
      WHERE w.user_id = NEW.user_id AND w.id = NEW.workflow_execution_id
        FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "agent_executions" violates foreign key constraint "fk_agent_executions_workflow_execution_id_workflow_executions"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (workflow_execution_id)=(%s) is not present in table "workflow_executions".',
                                  NEW.workflow_execution_id),
                  CONSTRAINT = 'fk_agent_executions_workflow_execution_id_workflow_executions',
                  TABLE = 'agent_executions', SCHEMA = 'public';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agentdb.check_workflow_execution_reference() IS
    'Trigger on agent_executions: a non-NULL workflow_execution_id must name an existing workflow run (SQLSTATE 23503), the foreign key a partitioned workflow_executions cannot have';
REVOKE EXECUTE ON FUNCTION agentdb.check_workflow_execution_reference() FROM PUBLIC;
