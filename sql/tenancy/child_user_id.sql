-- The user_id of the tables that reach their user through a parent
-- (revision 0020): agent_tools, agent_knowledgebases and agent_memories
-- through their agent, agent_blocks and workflow_edges through their
-- workflow, execution_metrics through its execution. The column is a copy of
-- the parent's user_id, kept equal by these triggers on a single node:
--
-- * agentdb.take_<parent>_user_id, BEFORE INSERT and BEFORE UPDATE of the
--   parent key or user_id on each child: a row without user_id gets its
--   parent's; a row that gives another one is refused (SQLSTATE 23503, the
--   column named); a row moved to another parent takes that parent's user.
--   The parent row is read FOR SHARE: a concurrent change of its user_id
--   waits for this transaction (or this one for it), so that change cannot
--   miss a child being written.
-- * agentdb.pass_<parent>_user_id, AFTER UPDATE OF user_id on the parent:
--   its children follow it.
--
-- A database distributed by Citus (pyglue install --citus) drops these
-- triggers: there the composite foreign keys (user_id, <parent key>) keep
-- the copy equal, and the coordinator needs user_id in the row it routes.
-- The ORM fills user_id from the parent on every deployment (pyglue.models).
--
-- The UPDATE triggers skip a row whose old user_id is NULL: that only
-- happens while revision 0020 fills the column in batches (NULL is not
-- allowed after), and those batches copy the parent's user_id themselves.

CREATE OR REPLACE FUNCTION agentdb.take_agent_user_id()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT a.user_id INTO v_user FROM public.agents a WHERE a.id = NEW.agent_id FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                        TG_TABLE_NAME, format('fk_%s_agent_id_agents', TG_TABLE_NAME)
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (agent_id)=(%s) is not present in table "agents".', NEW.agent_id),
                  CONSTRAINT = format('fk_%s_agent_id_agents', TG_TABLE_NAME),
                  TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    IF (TG_OP = 'INSERT' AND NEW.user_id IS NULL)
       OR (TG_OP = 'UPDATE' AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id) THEN
        NEW.user_id := v_user;
    ELSIF NEW.user_id IS DISTINCT FROM v_user THEN
        RAISE EXCEPTION '%.user_id must be the user of its agent: agent % belongs to user %, not %',
                        TG_TABLE_NAME, NEW.agent_id, v_user, NEW.user_id
            USING ERRCODE = 'foreign_key_violation', COLUMN = 'user_id',
                  HINT = 'leave user_id out: it is filled from agents.user_id',
                  TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agentdb.take_agent_user_id() IS
    'Trigger on agent_tools, agent_knowledgebases, agent_memories: user_id is the agent''s (filled when missing, followed on a move, another one refused with SQLSTATE 23503)';
REVOKE EXECUTE ON FUNCTION agentdb.take_agent_user_id() FROM PUBLIC;

CREATE OR REPLACE FUNCTION agentdb.take_workflow_user_id()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT w.user_id INTO v_user FROM public.workflows w WHERE w.id = NEW.workflow_id FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                        TG_TABLE_NAME, format('fk_%s_workflow_id_workflows', TG_TABLE_NAME)
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (workflow_id)=(%s) is not present in table "workflows".', NEW.workflow_id),
                  CONSTRAINT = format('fk_%s_workflow_id_workflows', TG_TABLE_NAME),
                  TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    IF (TG_OP = 'INSERT' AND NEW.user_id IS NULL)
       OR (TG_OP = 'UPDATE' AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id) THEN
        NEW.user_id := v_user;
    ELSIF NEW.user_id IS DISTINCT FROM v_user THEN
        RAISE EXCEPTION '%.user_id must be the user of its workflow: workflow % belongs to user %, not %',
                        TG_TABLE_NAME, NEW.workflow_id, v_user, NEW.user_id
            USING ERRCODE = 'foreign_key_violation', COLUMN = 'user_id',
                  HINT = 'leave user_id out: it is filled from workflows.user_id',
                  TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agentdb.take_workflow_user_id() IS
    'Trigger on agent_blocks, workflow_edges: user_id is the workflow''s (filled when missing, followed on a move, another one refused with SQLSTATE 23503)';
REVOKE EXECUTE ON FUNCTION agentdb.take_workflow_user_id() FROM PUBLIC;

-- execution_metrics is partitioned: TG_TABLE_NAME names a partition, so the
-- messages name the partitioned table.
CREATE OR REPLACE FUNCTION agentdb.take_execution_user_id()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT e.user_id INTO v_user FROM public.agent_executions e
     WHERE e.id = NEW.execution_id AND e.started_at = NEW.started_at FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "execution_metrics" violates foreign key constraint "fk_execution_metrics_execution_id_agent_executions"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (execution_id, started_at)=(%s, %s) is not present in table "agent_executions".',
                                  NEW.execution_id, NEW.started_at),
                  CONSTRAINT = 'fk_execution_metrics_execution_id_agent_executions',
                  TABLE = 'execution_metrics', SCHEMA = 'public';
    END IF;
    IF (TG_OP = 'INSERT' AND NEW.user_id IS NULL)
       OR (TG_OP = 'UPDATE' AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id) THEN
        NEW.user_id := v_user;
    ELSIF NEW.user_id IS DISTINCT FROM v_user THEN
        RAISE EXCEPTION 'execution_metrics.user_id must be the user of its execution: execution % belongs to user %, not %',
                        NEW.execution_id, v_user, NEW.user_id
            USING ERRCODE = 'foreign_key_violation', COLUMN = 'user_id',
                  HINT = 'leave user_id out: it is filled from agent_executions.user_id',
                  TABLE = 'execution_metrics', SCHEMA = 'public';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agentdb.take_execution_user_id() IS
    'Trigger on execution_metrics: user_id is the execution''s (filled when missing, followed on a move, another one refused with SQLSTATE 23503)';
REVOKE EXECUTE ON FUNCTION agentdb.take_execution_user_id() FROM PUBLIC;

CREATE OR REPLACE FUNCTION agentdb.pass_agent_user_id()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE public.agent_tools c SET user_id = NEW.user_id
     WHERE c.agent_id = NEW.id AND c.user_id IS DISTINCT FROM NEW.user_id;
    UPDATE public.agent_knowledgebases c SET user_id = NEW.user_id
     WHERE c.agent_id = NEW.id AND c.user_id IS DISTINCT FROM NEW.user_id;
    UPDATE public.agent_memories c SET user_id = NEW.user_id
     WHERE c.agent_id = NEW.id AND c.user_id IS DISTINCT FROM NEW.user_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.pass_agent_user_id() IS
    'Trigger on agents: a change of user_id is carried to the agent''s tools, knowledgebase links and memories';
REVOKE EXECUTE ON FUNCTION agentdb.pass_agent_user_id() FROM PUBLIC;

CREATE OR REPLACE FUNCTION agentdb.pass_workflow_user_id()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE public.agent_blocks c SET user_id = NEW.user_id
     WHERE c.workflow_id = NEW.id AND c.user_id IS DISTINCT FROM NEW.user_id;
    UPDATE public.workflow_edges c SET user_id = NEW.user_id
     WHERE c.workflow_id = NEW.id AND c.user_id IS DISTINCT FROM NEW.user_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.pass_workflow_user_id() IS
    'Trigger on workflows: a change of user_id is carried to the workflow''s blocks and edges';
REVOKE EXECUTE ON FUNCTION agentdb.pass_workflow_user_id() FROM PUBLIC;

CREATE OR REPLACE FUNCTION agentdb.pass_execution_user_id()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE public.execution_metrics c SET user_id = NEW.user_id
     WHERE c.execution_id = NEW.id AND c.started_at = NEW.started_at
       AND c.user_id IS DISTINCT FROM NEW.user_id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agentdb.pass_execution_user_id() IS
    'Trigger on agent_executions: a change of user_id is carried to the execution''s metrics';
REVOKE EXECUTE ON FUNCTION agentdb.pass_execution_user_id() FROM PUBLIC;

CREATE OR REPLACE TRIGGER agentdb_take_user_id
    BEFORE INSERT ON public.agent_tools
    FOR EACH ROW EXECUTE FUNCTION agentdb.take_agent_user_id();
CREATE OR REPLACE TRIGGER agentdb_take_user_id_update
    BEFORE UPDATE OF agent_id, user_id ON public.agent_tools
    FOR EACH ROW
    WHEN (OLD.user_id IS NOT NULL AND (OLD.agent_id IS DISTINCT FROM NEW.agent_id
                                       OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION agentdb.take_agent_user_id();

CREATE OR REPLACE TRIGGER agentdb_take_user_id
    BEFORE INSERT ON public.agent_knowledgebases
    FOR EACH ROW EXECUTE FUNCTION agentdb.take_agent_user_id();
CREATE OR REPLACE TRIGGER agentdb_take_user_id_update
    BEFORE UPDATE OF agent_id, user_id ON public.agent_knowledgebases
    FOR EACH ROW
    WHEN (OLD.user_id IS NOT NULL AND (OLD.agent_id IS DISTINCT FROM NEW.agent_id
                                       OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION agentdb.take_agent_user_id();

CREATE OR REPLACE TRIGGER agentdb_take_user_id
    BEFORE INSERT ON public.agent_memories
    FOR EACH ROW EXECUTE FUNCTION agentdb.take_agent_user_id();
CREATE OR REPLACE TRIGGER agentdb_take_user_id_update
    BEFORE UPDATE OF agent_id, user_id ON public.agent_memories
    FOR EACH ROW
    WHEN (OLD.user_id IS NOT NULL AND (OLD.agent_id IS DISTINCT FROM NEW.agent_id
                                       OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION agentdb.take_agent_user_id();

CREATE OR REPLACE TRIGGER agentdb_take_user_id
    BEFORE INSERT ON public.agent_blocks
    FOR EACH ROW EXECUTE FUNCTION agentdb.take_workflow_user_id();
CREATE OR REPLACE TRIGGER agentdb_take_user_id_update
    BEFORE UPDATE OF workflow_id, user_id ON public.agent_blocks
    FOR EACH ROW
    WHEN (OLD.user_id IS NOT NULL AND (OLD.workflow_id IS DISTINCT FROM NEW.workflow_id
                                       OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION agentdb.take_workflow_user_id();

CREATE OR REPLACE TRIGGER agentdb_take_user_id
    BEFORE INSERT ON public.workflow_edges
    FOR EACH ROW EXECUTE FUNCTION agentdb.take_workflow_user_id();
CREATE OR REPLACE TRIGGER agentdb_take_user_id_update
    BEFORE UPDATE OF workflow_id, user_id ON public.workflow_edges
    FOR EACH ROW
    WHEN (OLD.user_id IS NOT NULL AND (OLD.workflow_id IS DISTINCT FROM NEW.workflow_id
                                       OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION agentdb.take_workflow_user_id();

CREATE OR REPLACE TRIGGER agentdb_take_user_id
    BEFORE INSERT ON public.execution_metrics
    FOR EACH ROW EXECUTE FUNCTION agentdb.take_execution_user_id();
-- started_at changes with its execution's (ON UPDATE CASCADE): a run moved
-- to another month brings its metrics along, with its user
CREATE OR REPLACE TRIGGER agentdb_take_user_id_update
    BEFORE UPDATE OF execution_id, started_at, user_id ON public.execution_metrics
    FOR EACH ROW
    WHEN (OLD.user_id IS NOT NULL AND (OLD.execution_id IS DISTINCT FROM NEW.execution_id
                                       OR OLD.started_at IS DISTINCT FROM NEW.started_at
                                       OR OLD.user_id IS DISTINCT FROM NEW.user_id))
    EXECUTE FUNCTION agentdb.take_execution_user_id();

CREATE OR REPLACE TRIGGER agentdb_pass_user_id
    AFTER UPDATE OF user_id ON public.agents
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION agentdb.pass_agent_user_id();
CREATE OR REPLACE TRIGGER agentdb_pass_user_id
    AFTER UPDATE OF user_id ON public.workflows
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION agentdb.pass_workflow_user_id();
CREATE OR REPLACE TRIGGER agentdb_pass_user_id
    AFTER UPDATE OF user_id ON public.agent_executions
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION agentdb.pass_execution_user_id();
