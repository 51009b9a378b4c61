"""monitoring: agentdb.slow_queries (bounded), perf_stats, table_health

The slow-query log that pyglue.monitoring writes through
agentdb.record_slow_query(), its hourly purge job (registered in
agentdb.scheduled_jobs), and two read functions for DBAs:
agentdb.perf_stats() over pg_stat_statements (optional extension) and
agentdb.table_health() over the statistics views.

Revision ID: 0008
Revises: 0006
"""

from pyglue.migration_ops import execute_script, run_sql_files

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

PURGE_JOB = "agentdb-purge-slow-queries"


def upgrade() -> None:
    run_sql_files(
        {
            "schema/slow_queries.sql": "5c192ff7fe1c",
            "functions/record_slow_query.sql": "3b85049ba498",
            "functions/purge_slow_queries.sql": "912a3b7899c2",
            "functions/perf_stats.sql": "413846ba425d",
            "functions/table_health.sql": "2f202a92ba94",
        }
    )
    execute_script(
        "INSERT INTO agentdb.scheduled_jobs (job_name, schedule, command, description) VALUES ("
        f"'{PURGE_JOB}', '17 * * * *', 'SELECT * FROM agentdb.purge_slow_queries()', "
        "'Keep agentdb.slow_queries bounded: drop rows older than 7 days, "
        "then all but the newest 100000')"
    )


def downgrade() -> None:
    # only this revision's job leaves pg_cron; the others stay scheduled
    execute_script(
        f"""
        DO $$
        BEGIN
            IF agentdb.cron_available() THEN
                PERFORM cron.unschedule(j.jobid) FROM cron.job j WHERE j.jobname = '{PURGE_JOB}';
            END IF;
        END
        $$;
        DELETE FROM agentdb.scheduled_jobs WHERE job_name = '{PURGE_JOB}';
        DROP FUNCTION agentdb.table_health();
        DROP FUNCTION agentdb.perf_stats(integer);
        DROP FUNCTION agentdb.purge_slow_queries(interval, integer);
        DROP FUNCTION agentdb.record_slow_query(double precision, text, timestamptz);
        DROP TABLE agentdb.slow_queries;
        """
    )
