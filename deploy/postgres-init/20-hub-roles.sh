#!/bin/sh
# The hub's database roles (docs/database.md), made once when the postgres container initialises its volume (after
# the image's 10_postgis.sh): the owner of the hub database and the two run-time roles, none of them a superuser,
# may create databases or roles. The `init` service's `hub db upgrade` then migrates as hub_owner and grants
# hub_worker and hub_api their privileges. The passwords come from the environment, as psql variables (never on
# a command line).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv owner_password HUB_OWNER_PASSWORD
\getenv worker_password HUB_WORKER_PASSWORD
\getenv api_password HUB_API_PASSWORD
\getenv database POSTGRES_DB
CREATE ROLE hub_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE hub_worker LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'worker_password';
CREATE ROLE hub_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'api_password';
ALTER DATABASE :"database" OWNER TO hub_owner;
SQL
