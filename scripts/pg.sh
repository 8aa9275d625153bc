# A throwaway PostgreSQL server for the tests (sourced by scripts/test.sh and the bench):
# Debian's PostgreSQL binaries, a cluster made by initdb in a temporary folder, listening on
# 127.0.0.1 only, stopped and deleted by pg_stop. Never a shared server.
#
#   source scripts/pg.sh; pg_start; ...; pg_stop
#
# pg_start exports TUNELAB_TEST_POSTGRES=postgresql://tunelab@127.0.0.1:PORT/postgres (trusted
# on loopback) and creates the role tunelab_pw, which must give the password "right" (the
# wrong-credentials test).

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# Runs a command as the cluster's owner: root hands it to the postgres user (initdb refuses to
# run as root).
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  local bin port
  bin=$(pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "tunelab: PostgreSQL's server programs are missing (Debian: apt-get install postgresql)" >&2
    return 1
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tunelab-pg.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  if ! pg_as_owner "$bin/initdb" -D "$PG_DIR/data" -U tunelab -A trust --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    cat "$PG_DIR/initdb.log" >&2
    echo "tunelab: initdb failed (log above)" >&2
    return 1
  fi
  pg_as_owner sh -c "printf '%s\n' 'local all all trust' \
    'host all tunelab_pw 127.0.0.1/32 scram-sha-256' 'host all all 127.0.0.1/32 trust' > '$PG_DIR/data/pg_hba.conf'"
  for port in $(seq 55432 55482); do
    if pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
      -o "-k $PG_DIR -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      PG_PORT=$port
      break
    fi
  done
  if [ -z "${PG_PORT:-}" ]; then
    tail -20 "$PG_DIR/server.log" >&2 || true
    echo "tunelab: the throwaway PostgreSQL server did not start (ports 55432-55482 busy?)" >&2
    return 1
  fi
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U tunelab -d postgres -qc \
    "CREATE ROLE tunelab_pw LOGIN PASSWORD 'right'" >/dev/null
  export TUNELAB_TEST_POSTGRES="postgresql://tunelab@127.0.0.1:$PG_PORT/postgres"
  echo "tunelab: a throwaway PostgreSQL ($("$bin/postgres" --version | awk '{print $3}')) on 127.0.0.1:$PG_PORT, in $PG_DIR"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_as_owner "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}
