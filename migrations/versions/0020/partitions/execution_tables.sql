-- The platform's execution history, partitioned by RANGE on started_at
-- (timestamp, UTC) by month: partitions <table>_pYYYY_MM made ahead by
-- agentdb.create_partitions_ahead, plus <table>_default, which catches a
-- row no month holds (a backfill older than the oldest month, a date past
-- the months made ahead) so that no write ever fails for want of a
-- partition; it stays empty in normal running.
--
-- PostgreSQL wants the partition key in every unique key: the primary keys
-- are (id, started_at) and execution_metrics carries its execution's
-- started_at (kept equal by ON UPDATE CASCADE), so that a run and its
-- metrics live in the same month and retire together.
-- workflow_execution_id cannot reference workflow_executions any more (it
-- would need the workflow run's started_at too): two triggers keep the
-- same contract (agentdb.check_workflow_execution_reference,
-- agentdb.clear_workflow_execution_references).
--
-- Names are NOT schema-qualified: the live tree creates these in public;
-- revision 0016 creates them in a staging schema (search_path set to it),
-- next to the tables they replace, and moves them into public at the swap.
CREATE TABLE workflow_executions (
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
    CONSTRAINT pk_workflow_executions PRIMARY KEY (id, started_at),
    CONSTRAINT fk_workflow_executions_workflow_id_workflows FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_executions_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT ck_workflow_executions_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))
) PARTITION BY RANGE (started_at);

CREATE TABLE agent_executions (
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
    CONSTRAINT pk_agent_executions PRIMARY KEY (id, started_at),
    CONSTRAINT fk_agent_executions_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_executions_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT ck_agent_executions_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))
) PARTITION BY RANGE (started_at);

-- started_at last: the column revision 0016 adds to the existing table,
-- which becomes a partition and so must have the same columns
CREATE TABLE execution_metrics (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    execution_id    uuid NOT NULL,
    llm_call_count  integer NOT NULL DEFAULT 0,
    prompt_tokens   integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    total_tokens    integer NOT NULL DEFAULT 0,
    cost            numeric(12, 6) NOT NULL DEFAULT 0,
    created_at      timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at      timestamp NOT NULL DEFAULT timezone('utc', now()),
    started_at      timestamp NOT NULL,
    user_id         uuid NOT NULL,  -- its execution's (0020, sql/tenancy/child_user_id.sql)
    CONSTRAINT pk_execution_metrics PRIMARY KEY (id, started_at),
    CONSTRAINT uq_execution_metrics_execution_id_started_at UNIQUE (execution_id, started_at),
    CONSTRAINT fk_execution_metrics_execution_id_agent_executions FOREIGN KEY (execution_id, started_at)
        REFERENCES agent_executions (id, started_at) ON UPDATE CASCADE ON DELETE CASCADE
) PARTITION BY RANGE (started_at);

CREATE TABLE workflow_executions_default PARTITION OF workflow_executions DEFAULT;
CREATE TABLE agent_executions_default PARTITION OF agent_executions DEFAULT;
CREATE TABLE execution_metrics_default PARTITION OF execution_metrics DEFAULT;

-- Foreign keys (lookups by parent, ON DELETE CASCADE) and started_at ranges.
CREATE INDEX ix_workflow_executions_workflow_id ON workflow_executions (workflow_id);
CREATE INDEX ix_workflow_executions_session_id ON workflow_executions (session_id);
CREATE INDEX ix_workflow_executions_started_at ON workflow_executions (started_at);
CREATE INDEX ix_agent_executions_agent_id ON agent_executions (agent_id);
CREATE INDEX ix_agent_executions_workflow_execution_id ON agent_executions (workflow_execution_id);
CREATE INDEX ix_agent_executions_started_at ON agent_executions (started_at);
-- Execution history (0002). History pages `WHERE user_id = ? AND
-- workflow_id = ? [AND status = ?] ORDER BY started_at DESC, id DESC LIMIT n`
-- are an ordered index scan with keyset pagination and no Sort, with or
-- without a status: the status, last, is checked inside the index. The
-- dashboard reads a user's recent runs by (user_id, started_at, id).
CREATE INDEX ix_workflow_exec_user_workflow_status
    ON workflow_executions (user_id, workflow_id, started_at, id, status);
CREATE INDEX ix_workflow_exec_user_started ON workflow_executions (user_id, started_at, id);
CREATE INDEX ix_agent_exec_user_agent_started
    ON agent_executions (user_id, agent_id, started_at, id);
CREATE INDEX ix_agent_exec_user_started ON agent_executions (user_id, started_at, id);
CREATE INDEX ix_agent_exec_session_status ON agent_executions (session_id, status);
-- The stale-run check `status = 'running' AND started_at < ?` (0002): over
-- the unfinished runs only, so it stays tiny however long history grows.
CREATE INDEX ix_workflow_exec_status_started ON workflow_executions (status, started_at)
    WHERE status IN ('pending', 'running');
CREATE INDEX ix_agent_exec_status_started ON agent_executions (status, started_at)
    WHERE status IN ('pending', 'running');
