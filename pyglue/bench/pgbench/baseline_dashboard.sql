-- Dashboard at baseline: three live aggregations, the latest 20 executions, then the
-- serializer's lazy loads: each distinct agent once, each execution's metrics (N+1).
\set n random(1, :picks)
BEGIN;
SELECT user_id, cardinality(exec_agents) AS na, cardinality(execs) AS ne, exec_agents[1] AS a1, exec_agents[2] AS a2, exec_agents[3] AS a3, exec_agents[4] AS a4, exec_agents[5] AS a5, exec_agents[6] AS a6, exec_agents[7] AS a7, exec_agents[8] AS a8, execs[1] AS e1, execs[2] AS e2, execs[3] AS e3, execs[4] AS e4, execs[5] AS e5, execs[6] AS e6, execs[7] AS e7, execs[8] AS e8, execs[9] AS e9, execs[10] AS e10, execs[11] AS e11, execs[12] AS e12, execs[13] AS e13, execs[14] AS e14, execs[15] AS e15, execs[16] AS e16, execs[17] AS e17, execs[18] AS e18, execs[19] AS e19, execs[20] AS e20 FROM public.bench_pick WHERE n = :n \gset
SELECT count(*) FROM (SELECT id, agent_id, user_id, workflow_execution_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms FROM public.agent_executions WHERE user_id = :user_id AND started_at >= date_trunc('day', localtimestamp) - interval '30 days') AS anon_1;
SELECT count(*) FROM (SELECT id, agent_id, user_id, workflow_execution_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms FROM public.agent_executions WHERE user_id = :user_id AND started_at >= date_trunc('day', localtimestamp) - interval '30 days' AND status = 'completed') AS anon_1;
SELECT avg(duration_ms) FROM public.agent_executions WHERE user_id = :user_id AND started_at >= date_trunc('day', localtimestamp) - interval '30 days';
SELECT id, agent_id, user_id, workflow_execution_id, session_id, status, input_data, output_data, error_message, started_at, completed_at, duration_ms FROM public.agent_executions WHERE user_id = :user_id ORDER BY started_at DESC, id DESC LIMIT 20;
\if :na >= 1
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a1;
\endif
\if :na >= 2
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a2;
\endif
\if :na >= 3
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a3;
\endif
\if :na >= 4
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a4;
\endif
\if :na >= 5
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a5;
\endif
\if :na >= 6
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a6;
\endif
\if :na >= 7
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a7;
\endif
\if :na >= 8
SELECT id, user_id, name, description, configuration FROM public.agents WHERE id = :a8;
\endif
\if :ne >= 1
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e1;
\endif
\if :ne >= 2
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e2;
\endif
\if :ne >= 3
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e3;
\endif
\if :ne >= 4
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e4;
\endif
\if :ne >= 5
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e5;
\endif
\if :ne >= 6
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e6;
\endif
\if :ne >= 7
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e7;
\endif
\if :ne >= 8
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e8;
\endif
\if :ne >= 9
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e9;
\endif
\if :ne >= 10
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e10;
\endif
\if :ne >= 11
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e11;
\endif
\if :ne >= 12
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e12;
\endif
\if :ne >= 13
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e13;
\endif
\if :ne >= 14
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e14;
\endif
\if :ne >= 15
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e15;
\endif
\if :ne >= 16
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e16;
\endif
\if :ne >= 17
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e17;
\endif
\if :ne >= 18
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e18;
\endif
\if :ne >= 19
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e19;
\endif
\if :ne >= 20
SELECT id, execution_id, llm_call_count, prompt_tokens, completion_tokens, total_tokens, cost FROM public.execution_metrics WHERE execution_id = :e20;
\endif
COMMIT;
