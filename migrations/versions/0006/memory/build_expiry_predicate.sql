-- agentdb.build_expiry_predicate: the WHERE clause over public.agent_memories
-- that selects the memories one policy expires, and the age expression it
-- compares. cleanup_expired_memories() and preview_memory_cleanup() both build
-- their SQL here, so the preview counts exactly the rows the cleanup deletes.
--
-- The text matches the partial indexes on agent_memories on purpose
-- (sql/platform/indexes.sql):
--   type = 'short_term' AND created_at < $1
--   type = 'long_term' AND importance = 'low'
--       AND coalesce(last_accessed_at, created_at) < $1
-- (a memory never recalled ages from its creation). The cut-off is not a
-- value but a parameter reference ($1, or $1[2] for an array element) that
-- the caller binds with EXECUTE ... USING, so no timestamp is ever rendered
-- through DateStyle.
CREATE FUNCTION agentdb.build_expiry_predicate(
    p_memory_type text,
    p_importance text,
    p_age_basis text,
    p_cutoff text,
    OUT predicate text,
    OUT age_expression text
)
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_memory_type IS NULL OR p_memory_type NOT IN ('short_term', 'long_term', 'episodic') THEN
        RAISE EXCEPTION 'p_memory_type must be short_term, long_term or episodic, not %',
            coalesce(quote_literal(p_memory_type), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_importance IS NOT NULL AND p_importance NOT IN ('low', 'medium', 'high') THEN
        RAISE EXCEPTION 'p_importance must be low, medium, high or NULL (any), not %',
            quote_literal(p_importance)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_cutoff IS NULL OR p_cutoff !~ '^\$[0-9]+(\[[0-9]+\])?$' THEN
        RAISE EXCEPTION 'p_cutoff must be a parameter reference such as $1 or $1[2], not %',
            coalesce(quote_literal(p_cutoff), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    age_expression := CASE p_age_basis
        WHEN 'created' THEN 'created_at'
        WHEN 'last_access' THEN 'coalesce(last_accessed_at, created_at)'
    END;
    IF age_expression IS NULL THEN
        RAISE EXCEPTION 'p_age_basis must be created or last_access, not %',
            coalesce(quote_literal(p_age_basis), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    predicate := format('type = %L', p_memory_type);
    IF p_importance IS NOT NULL THEN
        predicate := predicate || format(' AND importance = %L', p_importance);
    END IF;
    predicate := predicate || format(' AND %s < %s', age_expression, p_cutoff);
END
$$;
COMMENT ON FUNCTION agentdb.build_expiry_predicate(text, text, text, text) IS
    'The WHERE clause (over public.agent_memories, cut-off as a parameter reference like $1) and the age expression of one memory policy; shared by the cleanup and its preview';
REVOKE EXECUTE ON FUNCTION agentdb.build_expiry_predicate(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentdb.build_expiry_predicate(text, text, text, text) TO agentdb_admin;
