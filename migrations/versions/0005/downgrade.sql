DROP FUNCTION agentdb.agent_document(uuid);
DROP FUNCTION agentdb.workflow_document(uuid);
