-- Revision 0016, down: the execution tables back to plain tables, rows
-- copied, under an ACCESS EXCLUSIVE lock on the three tables for the whole
-- copy (offline: a downgrade is not a path the platform runs through while
-- it serves). The retention policies of the three tables go with their
-- partitions (the tables they name no longer exist), and pg_partman's
-- registrations where it is installed.
SET LOCAL lock_timeout = '10s';
LOCK TABLE public.workflow_executions, public.agent_executions, public.execution_metrics
    IN ACCESS EXCLUSIVE MODE;
DELETE FROM agentdb.retention_policies
 WHERE table_name IN ('public.workflow_executions'::regclass, 'public.agent_executions'::regclass,
                      'public.execution_metrics'::regclass);
DO $$
BEGIN
    IF agentdb.partman_available() THEN
        EXECUTE format('DELETE FROM %I.part_config WHERE parent_table IN (%L, %L, %L)',
            (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
              WHERE e.extname = 'pg_partman'),
            'public.workflow_executions', 'public.agent_executions', 'public.execution_metrics');
    END IF;
END
$$;
CREATE SCHEMA agentdb_unpartitioning;

CREATE TABLE agentdb_unpartitioning.workflow_executions (
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id    uuid NOT NULL,
    user_id        uuid NOT NULL,
    session_id     varchar(255),
    status         varchar(20) NOT NULL DEFAULT 'pending',
    input_data     jsonb,
    output_data    jsonb,
    error_message  text,
    started_at     timestamp NOT NULL DEFAULT timezone('utc', now()),
    completed_at   timestamp,
    duration_ms    integer,
    CONSTRAINT pk_workflow_executions PRIMARY KEY (id),
    CONSTRAINT fk_workflow_executions_workflow_id_workflows FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_executions_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT ck_workflow_executions_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))
);

CREATE TABLE agentdb_unpartitioning.agent_executions (
    id                     uuid NOT NULL DEFAULT gen_random_uuid(),
    agent_id               uuid NOT NULL,
    user_id                uuid NOT NULL,
    workflow_execution_id  uuid,
    session_id             varchar(255),
    status                 varchar(20) NOT NULL DEFAULT 'pending',
    input_data             jsonb,
    output_data            jsonb,
    error_message          text,
    started_at             timestamp NOT NULL DEFAULT timezone('utc', now()),
    completed_at           timestamp,
    duration_ms            integer,
    CONSTRAINT pk_agent_executions PRIMARY KEY (id),
    CONSTRAINT fk_agent_executions_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_executions_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_executions_workflow_execution_id_workflow_executions FOREIGN KEY (workflow_execution_id) REFERENCES agentdb_unpartitioning.workflow_executions (id) ON DELETE SET NULL,
    CONSTRAINT ck_agent_executions_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))
);

CREATE TABLE agentdb_unpartitioning.execution_metrics (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    execution_id    uuid NOT NULL,
    llm_call_count  integer NOT NULL DEFAULT 0,
    prompt_tokens   integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    total_tokens    integer NOT NULL DEFAULT 0,
    cost            numeric(12, 6) NOT NULL DEFAULT 0,
    created_at      timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at      timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_execution_metrics PRIMARY KEY (id),
    CONSTRAINT uq_execution_metrics_execution_id UNIQUE (execution_id),
    CONSTRAINT fk_execution_metrics_execution_id_agent_executions FOREIGN KEY (execution_id) REFERENCES agentdb_unpartitioning.agent_executions (id) ON DELETE CASCADE
);

INSERT INTO agentdb_unpartitioning.workflow_executions (id, workflow_id, user_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms)
    SELECT id, workflow_id, user_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms FROM public.workflow_executions;
INSERT INTO agentdb_unpartitioning.agent_executions (id, agent_id, user_id, workflow_execution_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms)
    SELECT id, agent_id, user_id, workflow_execution_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms FROM public.agent_executions;
INSERT INTO agentdb_unpartitioning.execution_metrics (id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost, created_at, updated_at)
    SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost, created_at, updated_at FROM public.execution_metrics;
DROP TABLE public.execution_metrics, public.agent_executions, public.workflow_executions;
ALTER TABLE agentdb_unpartitioning.workflow_executions SET SCHEMA public;
ALTER TABLE agentdb_unpartitioning.agent_executions SET SCHEMA public;
ALTER TABLE agentdb_unpartitioning.execution_metrics SET SCHEMA public;
DROP SCHEMA agentdb_unpartitioning;
DROP FUNCTION agentdb.check_workflow_execution_reference();
DROP FUNCTION agentdb.clear_workflow_execution_references();
DROP FUNCTION agentdb.expired_partitions(timestamptz);
DROP FUNCTION agentdb.retention_horizon();
DROP FUNCTION agentdb.monthly_partitions(regclass);
DROP FUNCTION agentdb.drop_expired_partitions(timestamptz, interval);
ALTER TABLE agentdb.retention_policies DROP COLUMN dropped_before;
DROP FUNCTION agentdb.create_partitions_ahead(regclass, integer, boolean, interval);

CREATE INDEX ix_workflow_executions_workflow_id ON public.workflow_executions (workflow_id);
CREATE INDEX ix_workflow_executions_session_id ON public.workflow_executions (session_id);
CREATE INDEX ix_workflow_executions_started_at ON public.workflow_executions (started_at);
CREATE INDEX ix_agent_executions_agent_id ON public.agent_executions (agent_id);
CREATE INDEX ix_agent_executions_workflow_execution_id ON public.agent_executions (workflow_execution_id);
CREATE INDEX ix_agent_executions_started_at ON public.agent_executions (started_at);
CREATE INDEX ix_workflow_exec_user_workflow_status
    ON public.workflow_executions (user_id, workflow_id, started_at, id, status);
CREATE INDEX ix_workflow_exec_user_started ON public.workflow_executions (user_id, started_at, id);
CREATE INDEX ix_agent_exec_user_agent_started
    ON public.agent_executions (user_id, agent_id, started_at, id);
CREATE INDEX ix_agent_exec_user_started ON public.agent_executions (user_id, started_at, id);
CREATE INDEX ix_agent_exec_session_status ON public.agent_executions (session_id, status);
CREATE INDEX ix_workflow_exec_status_started ON public.workflow_executions (status, started_at)
    WHERE status IN ('pending', 'running');
CREATE INDEX ix_agent_exec_status_started ON public.agent_executions (status, started_at)
    WHERE status IN ('pending', 'running');
