#!/usr/bin/env bash
# A PostgreSQL cluster in a folder the project owns, on its own loopback port, with
# one database per service. Nothing depends on a system service being up.
#
#   deploy/postgres.sh start|stop|crash|status|url <database>
#   (crash: stop at once, as a power cut would: `pg_ctl stop -m immediate`; used by make chaos)
#
# Environment:
#   PG_PORT        port (default 5433)
#   PG_STATE_DIR   cluster folder (default .state/postgres-$PG_PORT in the repo)
#   PG_OPTIONS     more server options, e.g. "-c shared_preload_libraries=pg_stat_statements"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
port="${PG_PORT:-5433}"
state="${PG_STATE_DIR:-$repo/.state/postgres-$port}"
databases=(feedback_intake membership notification reporting)

die() { echo "postgres.sh: $*" >&2; exit 1; }

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

bin="$(find_bin || true)"
if [ -z "$bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "postgres.sh: installing PostgreSQL with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || die "apt-get could not install postgresql."
    bin="$(find_bin)" || die "PostgreSQL installed but pg_ctl was not found under /usr/lib/postgresql."
  else
    die "PostgreSQL server binaries are missing. Install them (apt-get install postgresql) or set database URLs."
  fi
fi

# PostgreSQL refuses to run as root: run its tools as the 'postgres' system user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { as_owner "$bin/pg_ctl" -D "$state/data" status >/dev/null 2>&1; }

start() {
  mkdir -p "$state"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$state"
  if [ ! -f "$state/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$state/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! running; then
    as_owner "$bin/pg_ctl" -D "$state/data" -l "$state/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $state -c max_connections=200 -c fsync=off -c jit=off ${PG_OPTIONS:-}" start >/dev/null \
      || { tail -n 20 "$state/postgres.log" >&2; die "PostgreSQL did not start (log above)."; }
  fi
  for db in "${databases[@]}"; do
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1 from pg_database where datname='$db'" postgres | grep -q 1; then
      as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
    fi
  done
  echo "postgres.sh: PostgreSQL ready on 127.0.0.1:$port (databases: ${databases[*]})"
}

stop() {
  if running; then as_owner "$bin/pg_ctl" -D "$state/data" -m fast -w stop >/dev/null; echo "postgres.sh: stopped"; else echo "postgres.sh: not running"; fi
}

crash() {
  if running; then as_owner "$bin/pg_ctl" -D "$state/data" -m immediate -w stop >/dev/null; echo "postgres.sh: crashed"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  crash) crash ;;
  status) if running; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 1; fi ;;
  url) echo "postgresql+psycopg://postgres@127.0.0.1:$port/${2:?database name}" ;;
  *) echo "usage: $0 start|stop|crash|status|url <database>" >&2; exit 2 ;;
esac
