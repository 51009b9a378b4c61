-- The platform's schema as it runs before agentdb (the Alembic baseline):
-- json columns, single-column indexes only, uuid keys, UTC timestamps
-- without time zone. An existing database adopts agentdb by stamping this
-- revision. Released: never edit (migration 0001 pins its digest). The
-- one exception (issue 12) named every object with its schema, so that it
-- runs under the migrations' search_path = pg_catalog, pg_temp; the schema
-- it builds is the same.

CREATE TABLE public.users (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    email       varchar(255) NOT NULL,
    name        varchar(255),
    role        varchar(20) NOT NULL DEFAULT 'user',
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at  timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_users PRIMARY KEY (id),
    CONSTRAINT uq_users_email UNIQUE (email),
    CONSTRAINT ck_users_role CHECK (role IN ('user', 'admin'))
);

CREATE TABLE public.agents (
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL,
    name           varchar(255) NOT NULL,
    description    text,
    configuration  json NOT NULL DEFAULT '{}',
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at     timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_agents PRIMARY KEY (id),
    CONSTRAINT fk_agents_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);
CREATE INDEX ix_agents_user_id ON public.agents (user_id);

CREATE TABLE public.agent_tools (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    agent_id    uuid NOT NULL,
    name        varchar(255) NOT NULL,
    tool_type   varchar(50) NOT NULL,
    config      json NOT NULL DEFAULT '{}',
    created_at  timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_agent_tools PRIMARY KEY (id),
    CONSTRAINT fk_agent_tools_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE
);
CREATE INDEX ix_agent_tools_agent_id ON public.agent_tools (agent_id);

CREATE TABLE public.knowledgebases (
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL,
    name             varchar(255) NOT NULL,
    description      text,
    embedding_model  varchar(100) NOT NULL DEFAULT 'text-embedding-3-small',
    created_at       timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at       timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_knowledgebases PRIMARY KEY (id),
    CONSTRAINT fk_knowledgebases_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);
CREATE INDEX ix_knowledgebases_user_id ON public.knowledgebases (user_id);

CREATE TABLE public.agent_knowledgebases (
    agent_id          uuid NOT NULL,
    knowledgebase_id  uuid NOT NULL,
    created_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_agent_knowledgebases PRIMARY KEY (agent_id, knowledgebase_id),
    CONSTRAINT fk_agent_knowledgebases_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_knowledgebases_knowledgebase_id_knowledgebases FOREIGN KEY (knowledgebase_id) REFERENCES public.knowledgebases (id) ON DELETE CASCADE
);
CREATE INDEX ix_agent_knowledgebases_knowledgebase_id ON public.agent_knowledgebases (knowledgebase_id);

CREATE TABLE public.workflows (
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL,
    name              varchar(255) NOT NULL,
    description       text,
    graph_definition  json NOT NULL,
    is_active         boolean NOT NULL DEFAULT true,
    created_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_workflows PRIMARY KEY (id),
    CONSTRAINT fk_workflows_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);
CREATE INDEX ix_workflows_user_id ON public.workflows (user_id);

CREATE TABLE public.agent_blocks (
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id  uuid NOT NULL,
    agent_id     uuid,
    type         varchar(50) NOT NULL,
    name         varchar(255) NOT NULL,
    position     integer NOT NULL DEFAULT 0,
    config       json NOT NULL DEFAULT '{}',
    sub_blocks   json NOT NULL DEFAULT '{}',
    created_at   timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at   timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_agent_blocks PRIMARY KEY (id),
    CONSTRAINT fk_agent_blocks_workflow_id_workflows FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_blocks_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE SET NULL
);
CREATE INDEX ix_agent_blocks_workflow_id ON public.agent_blocks (workflow_id);
CREATE INDEX ix_agent_blocks_agent_id ON public.agent_blocks (agent_id);

CREATE TABLE public.workflow_edges (
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id      uuid NOT NULL,
    source_block_id  uuid NOT NULL,
    target_block_id  uuid NOT NULL,
    condition        varchar(255),
    created_at       timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_workflow_edges PRIMARY KEY (id),
    CONSTRAINT fk_workflow_edges_workflow_id_workflows FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_edges_source_block_id_agent_blocks FOREIGN KEY (source_block_id) REFERENCES public.agent_blocks (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_edges_target_block_id_agent_blocks FOREIGN KEY (target_block_id) REFERENCES public.agent_blocks (id) ON DELETE CASCADE
);
CREATE INDEX ix_workflow_edges_workflow_id ON public.workflow_edges (workflow_id);
CREATE INDEX ix_workflow_edges_source_block_id ON public.workflow_edges (source_block_id);
CREATE INDEX ix_workflow_edges_target_block_id ON public.workflow_edges (target_block_id);

CREATE TABLE public.workflow_executions (
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id    uuid NOT NULL,
    user_id        uuid NOT NULL,
    session_id     varchar(255),
    status         varchar(20) NOT NULL DEFAULT 'pending',
    input_data     json,
    output_data    json,
    error_message  text,
    started_at     timestamp NOT NULL DEFAULT timezone('utc', now()),
    completed_at   timestamp,
    duration_ms    integer,
    CONSTRAINT pk_workflow_executions PRIMARY KEY (id),
    CONSTRAINT fk_workflow_executions_workflow_id_workflows FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_executions_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT ck_workflow_executions_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))
);
CREATE INDEX ix_workflow_executions_workflow_id ON public.workflow_executions (workflow_id);
CREATE INDEX ix_workflow_executions_user_id ON public.workflow_executions (user_id);
CREATE INDEX ix_workflow_executions_session_id ON public.workflow_executions (session_id);
CREATE INDEX ix_workflow_executions_status ON public.workflow_executions (status);
CREATE INDEX ix_workflow_executions_started_at ON public.workflow_executions (started_at);

CREATE TABLE public.agent_executions (
    id                     uuid NOT NULL DEFAULT gen_random_uuid(),
    agent_id               uuid NOT NULL,
    user_id                uuid NOT NULL,
    workflow_execution_id  uuid,
    session_id             varchar(255),
    status                 varchar(20) NOT NULL DEFAULT 'pending',
    input_data             json,
    output_data            json,
    error_message          text,
    started_at             timestamp NOT NULL DEFAULT timezone('utc', now()),
    completed_at           timestamp,
    duration_ms            integer,
    CONSTRAINT pk_agent_executions PRIMARY KEY (id),
    CONSTRAINT fk_agent_executions_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_executions_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_executions_workflow_execution_id_workflow_executions FOREIGN KEY (workflow_execution_id) REFERENCES public.workflow_executions (id) ON DELETE SET NULL,
    CONSTRAINT ck_agent_executions_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))
);
CREATE INDEX ix_agent_executions_agent_id ON public.agent_executions (agent_id);
CREATE INDEX ix_agent_executions_user_id ON public.agent_executions (user_id);
CREATE INDEX ix_agent_executions_workflow_execution_id ON public.agent_executions (workflow_execution_id);
CREATE INDEX ix_agent_executions_session_id ON public.agent_executions (session_id);
CREATE INDEX ix_agent_executions_status ON public.agent_executions (status);
CREATE INDEX ix_agent_executions_started_at ON public.agent_executions (started_at);

CREATE TABLE public.execution_metrics (
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
    CONSTRAINT fk_execution_metrics_execution_id_agent_executions FOREIGN KEY (execution_id) REFERENCES public.agent_executions (id) ON DELETE CASCADE
);

CREATE TABLE public.agent_memories (
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    agent_id          uuid NOT NULL,
    session_id        varchar(255),
    type              varchar(20) NOT NULL,
    importance        varchar(10) NOT NULL DEFAULT 'medium',
    content           text NOT NULL,
    access_count      integer NOT NULL DEFAULT 0,
    last_accessed_at  timestamp,
    created_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_agent_memories PRIMARY KEY (id),
    CONSTRAINT fk_agent_memories_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE,
    CONSTRAINT ck_agent_memories_type CHECK (type IN ('short_term', 'long_term', 'episodic')),
    CONSTRAINT ck_agent_memories_importance CHECK (importance IN ('low', 'medium', 'high'))
);
CREATE INDEX ix_agent_memories_agent_id ON public.agent_memories (agent_id);
CREATE INDEX ix_agent_memories_session_id ON public.agent_memories (session_id);
