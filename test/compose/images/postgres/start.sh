#!/bin/sh
# Starts as root only to give the data folder to postgres, then runs as postgres. On an empty data
# folder: a cluster whose superuser is POSTGRES_USER with POSTGRES_PASSWORD, a database POSTGRES_DB,
# password (scram-sha-256) logins over TCP from anywhere, trust on the local socket.
set -eu
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (the superuser's password)}"
  user="${POSTGRES_USER:-postgres}"
  password_file=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$password_file"
  initdb --username="$user" --pwfile="$password_file" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  database="${POSTGRES_DB:-$user}"
  if [ "$database" != postgres ]; then
    # Single-user mode: no server, no port open before the cluster is ready.
    printf 'CREATE DATABASE "%s";\n' "$database" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "start.sh: initialised $PGDATA for $user, database $database"
fi
exec "$@"
