-- Daily execution rollups, exact at every moment.
--
-- The dashboard used to aggregate agent_executions on every load. These
-- tables hold, per UTC day a run STARTED on, exact counters kept by triggers
-- in the same transaction as the raw write (sql/stats/track_*.sql):
-- sums and counts, never averages of averages. avg_duration_ms is
-- round(total_duration_ms / duration_count), written by the same UPDATE that
-- changes the sums (and checked by agentdb.verify_execution_stats); read
-- functions compute weighted averages from the sums, never from it. It is
-- not a stored generated column on purpose: PostgreSQL re-parses and
-- re-plans a generation expression at every statement that writes the
-- table, which measured about a quarter of the triggers' CPU.
--
-- duration_count is how many executions with a duration_ms are summed in
-- total_duration_ms: the divisor of the exact average.
--
-- Keys: the primary keys start with (user_id, date) because every read is
-- "one user, a range of days"; the (agent_id, date) / (workflow_id, date)
-- indexes serve per-agent history and the ON DELETE CASCADE of an agent.
-- fillfactor 80 leaves room for HOT updates: a counter update changes no
-- indexed column, so the hot path never touches an index.

CREATE TABLE public.agent_execution_stats (
    user_id            uuid NOT NULL,
    date               date NOT NULL,
    agent_id           uuid NOT NULL,
    execution_count    bigint NOT NULL DEFAULT 0,
    success_count      bigint NOT NULL DEFAULT 0,
    failed_count       bigint NOT NULL DEFAULT 0,
    cancelled_count    bigint NOT NULL DEFAULT 0,
    duration_count     bigint NOT NULL DEFAULT 0,
    total_duration_ms  bigint NOT NULL DEFAULT 0,
    avg_duration_ms    bigint,
    min_duration_ms    integer,
    max_duration_ms    integer,
    total_tokens       bigint NOT NULL DEFAULT 0,
    total_llm_calls    bigint NOT NULL DEFAULT 0,
    total_cost         numeric(20, 6) NOT NULL DEFAULT 0,
    created_at         timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at         timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_agent_execution_stats PRIMARY KEY (user_id, date, agent_id),
    CONSTRAINT fk_agent_execution_stats_user_id_users
        FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_execution_stats_agent_id_agents
        FOREIGN KEY (agent_id) REFERENCES public.agents (id) ON DELETE CASCADE
) WITH (fillfactor = 80);
CREATE INDEX ix_agent_execution_stats_agent_id_date ON public.agent_execution_stats (agent_id, date);
COMMENT ON TABLE public.agent_execution_stats IS
    'Per agent, user and UTC day a run started on: exact counts, duration sum/count/min/max, tokens, LLM calls and cost of agent_executions (+ execution_metrics), kept by triggers in the writing transaction. '
    'Deleting raw executions (retention) does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';

CREATE TABLE public.workflow_execution_stats (
    user_id            uuid NOT NULL,
    date               date NOT NULL,
    workflow_id        uuid NOT NULL,
    execution_count    bigint NOT NULL DEFAULT 0,
    success_count      bigint NOT NULL DEFAULT 0,
    failed_count       bigint NOT NULL DEFAULT 0,
    cancelled_count    bigint NOT NULL DEFAULT 0,
    duration_count     bigint NOT NULL DEFAULT 0,
    total_duration_ms  bigint NOT NULL DEFAULT 0,
    avg_duration_ms    bigint,
    min_duration_ms    integer,
    max_duration_ms    integer,
    created_at         timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at         timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_workflow_execution_stats PRIMARY KEY (user_id, date, workflow_id),
    CONSTRAINT fk_workflow_execution_stats_user_id_users
        FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_execution_stats_workflow_id_workflows
        FOREIGN KEY (workflow_id) REFERENCES public.workflows (id) ON DELETE CASCADE
) WITH (fillfactor = 80);
CREATE INDEX ix_workflow_execution_stats_workflow_id_date
    ON public.workflow_execution_stats (workflow_id, date);
COMMENT ON TABLE public.workflow_execution_stats IS
    'Per workflow, user and UTC day a run started on: exact counts and duration sum/count/min/max of workflow_executions, kept by triggers in the writing transaction. '
    'Tokens and cost belong to agent executions (execution_metrics) and are rolled up in agent_execution_stats. '
    'Deleting raw executions (retention) does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';

CREATE TABLE public.user_execution_stats (
    user_id            uuid NOT NULL,
    date               date NOT NULL,
    execution_count    bigint NOT NULL DEFAULT 0,
    success_count      bigint NOT NULL DEFAULT 0,
    failed_count       bigint NOT NULL DEFAULT 0,
    cancelled_count    bigint NOT NULL DEFAULT 0,
    duration_count     bigint NOT NULL DEFAULT 0,
    total_duration_ms  bigint NOT NULL DEFAULT 0,
    avg_duration_ms    bigint,
    min_duration_ms    integer,
    max_duration_ms    integer,
    total_tokens       bigint NOT NULL DEFAULT 0,
    total_llm_calls    bigint NOT NULL DEFAULT 0,
    total_cost         numeric(20, 6) NOT NULL DEFAULT 0,
    created_at         timestamp NOT NULL DEFAULT timezone('utc', now()),
    updated_at         timestamp NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_user_execution_stats PRIMARY KEY (user_id, date),
    CONSTRAINT fk_user_execution_stats_user_id_users
        FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
) WITH (fillfactor = 80);
COMMENT ON TABLE public.user_execution_stats IS
    'Per user and UTC day a run started on: the agent_execution_stats of all the user''s agents summed (a 30-day dashboard reads 31 rows, not agents x days), kept by the same triggers. '
    'Deleting raw executions (retention) or an agent does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';
