-- The platform's tables as they are at head: the baseline (the platform as
-- it ran before agentdb, migrations/versions/0001/baseline.sql) with its json
-- columns as jsonb (0003). Their indexes are in indexes.sql.
--
-- No revision runs this file: the platform's tables already exist when a
-- database adopts agentdb, so revisions change them with ALTERs. It is the
-- definition those ALTERs arrive at, and a test builds a database from the
-- live tree and compares it with one migrated to head (pg_dump --schema-only).
--
-- Conventions the platform has always had: uuid keys, UTC timestamps without
-- time zone, varchar columns.

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
    configuration  jsonb NOT NULL DEFAULT '{}',
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at     timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_agents PRIMARY KEY (id),
    CONSTRAINT fk_agents_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);

CREATE TABLE public.agent_tools (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    agent_id    uuid NOT NULL,
    name        varchar(255) NOT NULL,
    tool_type   varchar(50) NOT NULL,
    config      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamp NOT NULL DEFAULT timezone('utc', now()),
    user_id     uuid NOT NULL,  -- its parent's (0020, sql/tenancy/child_user_id.sql)
    CONSTRAINT pk_agent_tools PRIMARY KEY (id),
    CONSTRAINT fk_agent_tools_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE
);

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

CREATE TABLE public.agent_knowledgebases (
    agent_id          uuid NOT NULL,
    knowledgebase_id  uuid NOT NULL,
    created_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    user_id     uuid NOT NULL,  -- its parent's (0020, sql/tenancy/child_user_id.sql)
    CONSTRAINT pk_agent_knowledgebases PRIMARY KEY (agent_id, knowledgebase_id),
    CONSTRAINT fk_agent_knowledgebases_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_knowledgebases_knowledgebase_id_knowledgebases FOREIGN KEY (knowledgebase_id) REFERENCES public.knowledgebases (id) ON DELETE CASCADE
);

CREATE TABLE public.workflows (
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL,
    name              varchar(255) NOT NULL,
    description       text,
    graph_definition  jsonb NOT NULL,
    is_active         boolean NOT NULL DEFAULT true,
    created_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at        timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_workflows PRIMARY KEY (id),
    CONSTRAINT fk_workflows_user_id_users FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);

CREATE TABLE public.agent_blocks (
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id  uuid NOT NULL,
    agent_id     uuid,
    type         varchar(50) NOT NULL,
    name         varchar(255) NOT NULL,
    position     integer NOT NULL DEFAULT 0,
    config       jsonb NOT NULL DEFAULT '{}',
    sub_blocks   jsonb NOT NULL DEFAULT '{}',
    created_at   timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at   timestamp NOT NULL DEFAULT timezone('utc', now()),
    user_id     uuid NOT NULL,  -- its parent's (0020, sql/tenancy/child_user_id.sql)
    CONSTRAINT pk_agent_blocks PRIMARY KEY (id),
    CONSTRAINT fk_agent_blocks_workflow_id_workflows FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_blocks_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE SET NULL
);

CREATE TABLE public.workflow_edges (
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id      uuid NOT NULL,
    source_block_id  uuid NOT NULL,
    target_block_id  uuid NOT NULL,
    condition        varchar(255),
    created_at       timestamp NOT NULL DEFAULT timezone('utc', now()),
    user_id     uuid NOT NULL,  -- its parent's (0020, sql/tenancy/child_user_id.sql)
    CONSTRAINT pk_workflow_edges PRIMARY KEY (id),
    CONSTRAINT fk_workflow_edges_workflow_id_workflows FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_edges_source_block_id_agent_blocks FOREIGN KEY (source_block_id) REFERENCES public.agent_blocks (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_edges_target_block_id_agent_blocks FOREIGN KEY (target_block_id) REFERENCES public.agent_blocks (id) ON DELETE CASCADE
);

-- workflow_executions, agent_executions and execution_metrics: partitioned
-- by month since 0016, in sql/partitions/execution_tables.sql

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
    user_id     uuid NOT NULL,  -- its parent's (0020, sql/tenancy/child_user_id.sql)
    CONSTRAINT pk_agent_memories PRIMARY KEY (id),
    CONSTRAINT fk_agent_memories_agent_id_agents FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE,
    CONSTRAINT ck_agent_memories_type CHECK (type IN ('short_term', 'long_term', 'episodic')),
    CONSTRAINT ck_agent_memories_importance CHECK (importance IN ('low', 'medium', 'high'))
);
