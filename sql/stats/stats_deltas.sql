-- Pending execution-stats deltas: the write path of the rollups.
--
-- The stats triggers only APPEND here, one row per change of a run's
-- contribution to a key (a moved run: one row for the old key, one for the
-- new). No writer updates a shared row, so concurrent writers of one user,
-- agent or day never wait on each other, and a single-run transaction
-- cannot deadlock with another. agentdb.fold_stats_batch moves them into
-- the rollup tables (agent_execution_stats, user_execution_stats,
-- workflow_execution_stats), serialized by an advisory lock; every read
-- adds the user's pending deltas to the rollup rows, so reads are exact at
-- every snapshot: a delta commits with its raw write, and a fold deletes
-- deltas and adds them to the rollups in one transaction.
--
-- Additive counters are signed. min/max cannot be subtracted:
-- added_duration_ms is a duration that started counting (least/greatest
-- with the rollup's), and duration_removed marks a key one of whose
-- durations stopped counting (changed, or its run moved away): the fold,
-- and a read while the mark is pending, recompute that key's min/max from
-- its raw rows (an index range scan of one user's day; rare: a completion
-- sets a duration, it does not change one).
--
-- No foreign keys: a key check would lock the agent and user rows from
-- every writer (the raw row already does). The fold skips deltas whose
-- agent or user is gone, as the rollups' ON DELETE CASCADE would.
-- The heap is a queue: autovacuum runs on it after every few thousand
-- deleted rows, so reads and folds do not wade through dead tuples.
-- (stats/rollup_tables.sql, released with revision 0007, still describes the
-- rollups as updated in the writer's transaction; their table comments are
-- replaced below.)

CREATE TABLE agentdb.agent_stats_deltas (
    user_id            uuid NOT NULL,
    date               date NOT NULL,
    agent_id           uuid NOT NULL,
    execution_count    integer NOT NULL,
    success_count      integer NOT NULL,
    failed_count       integer NOT NULL,
    cancelled_count    integer NOT NULL,
    duration_count     integer NOT NULL,
    total_duration_ms  bigint NOT NULL,
    added_duration_ms  integer,
    duration_removed   boolean NOT NULL,
    total_tokens       bigint NOT NULL,
    total_llm_calls    bigint NOT NULL,
    total_cost         numeric(20, 6) NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 20000);
CREATE INDEX agent_stats_deltas_user_date ON agentdb.agent_stats_deltas (user_id, date);
COMMENT ON TABLE agentdb.agent_stats_deltas IS
    'Signed changes to agent_execution_stats/user_execution_stats appended by the stats triggers, not yet folded into them; reads add them, agentdb.fold_stats_batch moves them';

CREATE TABLE agentdb.workflow_stats_deltas (
    user_id            uuid NOT NULL,
    date               date NOT NULL,
    workflow_id        uuid NOT NULL,
    execution_count    integer NOT NULL,
    success_count      integer NOT NULL,
    failed_count       integer NOT NULL,
    cancelled_count    integer NOT NULL,
    duration_count     integer NOT NULL,
    total_duration_ms  bigint NOT NULL,
    added_duration_ms  integer,
    duration_removed   boolean NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 20000);
CREATE INDEX workflow_stats_deltas_user_date ON agentdb.workflow_stats_deltas (user_id, date);
COMMENT ON TABLE agentdb.workflow_stats_deltas IS
    'Signed changes to workflow_execution_stats appended by the stats trigger, not yet folded into it; reads add them, agentdb.fold_stats_batch moves them';

COMMENT ON TABLE public.agent_execution_stats IS
    'Per agent, user and UTC day a run started on: exact counts, duration sum/count/min/max, tokens, LLM calls and cost of agent_executions (+ execution_metrics), as folded from agentdb.agent_stats_deltas; reads add the pending deltas (agentdb.agent_stats_now). '
    'Deleting raw executions (retention) does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';
COMMENT ON TABLE public.workflow_execution_stats IS
    'Per workflow, user and UTC day a run started on: exact counts and duration sum/count/min/max of workflow_executions, as folded from agentdb.workflow_stats_deltas; reads add the pending deltas (agentdb.workflow_stats_now). '
    'Deleting raw executions (retention) does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';
COMMENT ON TABLE public.user_execution_stats IS
    'Per user and UTC day a run started on: the agent deltas of all the user''s agents summed as they are folded (a 30-day dashboard reads 31 rows plus the pending deltas, agentdb.user_stats_now). '
    'Deleting raw executions (retention) or an agent does NOT change history already rolled up here; agentdb.refresh_execution_stats() rebuilds days from the raw rows that survive.';
