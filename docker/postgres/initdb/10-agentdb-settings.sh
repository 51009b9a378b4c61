#!/usr/bin/env bash
# Runs once, from /docker-entrypoint-initdb.d, when the official entrypoint
# initializes an empty data directory: include agentdb.conf from
# postgresql.conf and point pg_cron at AGENTDB_CRON_DATABASE (default:
# POSTGRES_DB, else postgres). The entrypoint restarts the server after the
# init scripts, which loads the preloaded libraries.
set -euo pipefail

conf="${AGENTDB_CONF:-/etc/postgresql/agentdb.conf}"
cron_database="${AGENTDB_CRON_DATABASE:-${POSTGRES_DB:-postgres}}"

if [[ ! -r "$conf" ]]; then
    echo "10-agentdb-settings.sh: cannot read $conf (AGENTDB_CONF)" >&2
    exit 1
fi
if [[ ! "$cron_database" =~ ^[A-Za-z0-9_$-]{1,63}$ ]]; then
    echo "10-agentdb-settings.sh: AGENTDB_CRON_DATABASE must be a plain database name (letters, digits, _ $ -), not '$cron_database'" >&2
    exit 1
fi

cat >> "$PGDATA/postgresql.conf" <<CONF

# agentdb (written by docker-entrypoint-initdb.d/10-agentdb-settings.sh)
include '$conf'
cron.database_name = '$cron_database'
CONF
echo "10-agentdb-settings.sh: included $conf; pg_cron runs in database $cron_database"
