-- agentdb's schema and its two roles.
--   agentdb_app    what the platform's app role needs: the read functions
--                  (documents, dashboards) and recording slow statements.
--   agentdb_admin  maintenance and repair; member of agentdb_app.
-- The roles are cluster-wide: created when missing, never dropped (other
-- databases of the cluster may use them). Every routine REVOKEs EXECUTE from
-- PUBLIC in its own file and grants it to one of the two roles.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agentdb_app') THEN
        CREATE ROLE agentdb_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agentdb_admin') THEN
        CREATE ROLE agentdb_admin NOLOGIN;
    END IF;
END
$roles$;

CREATE SCHEMA agentdb;
COMMENT ON SCHEMA agentdb IS
    'agentdb: maintenance, consolidation, rollups and monitoring for the platform''s tables';

REVOKE ALL ON SCHEMA agentdb FROM PUBLIC;
GRANT USAGE ON SCHEMA agentdb TO agentdb_app, agentdb_admin;
GRANT agentdb_app TO agentdb_admin;
