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
#
# As root, PostgreSQL runs as the 'postgres' user, who must be able to reach the cluster
# folder. A clone inside a folder other users cannot enter (mode 700: root's home, mktemp -d)
# is out of its reach: the cluster then lives in postgres's home instead, in a folder named
# after PG_STATE_DIR (~postgres/ics-hub/<checksum>-<name>), and PG_STATE_DIR/cluster links
# to it. It goes with PG_STATE_DIR: a start that finds PG_STATE_DIR gone (make clean, a test
# that wants a fresh cluster) starts that folder afresh too.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
port="${PG_PORT:-5433}"
requested="$(realpath -m "${PG_STATE_DIR:-$repo/.state/postgres-$port}")"
state="$requested"
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

# Where the cluster is: PG_STATE_DIR, or where its 'cluster' link points (see above).
[ -L "$requested/cluster" ] && state="$(readlink "$requested/cluster")"

# As root: can 'postgres' reach PG_STATE_DIR? If not, keep the cluster in its home.
place_cluster() {
  mkdir -p "$requested"
  [ "$(id -u)" = 0 ] || return 0
  chown postgres:postgres "$requested"
  if runuser -u postgres -- test -w "$requested" -a -x "$requested"; then return 0; fi
  local home
  home="$(getent passwd postgres | cut -d: -f6)"
  [ -n "$home" ] && runuser -u postgres -- test -w "$home" \
    || die "the 'postgres' user cannot reach $requested (a folder above it is private to its owner, e.g. mode 700) and has no home folder to keep the cluster in instead. Clone the repository where other users can enter (e.g. under /srv or /opt), or give PG_STATE_DIR a folder 'postgres' can reach."
  state="$home/ics-hub/$(printf %s "$requested" | cksum | cut -d' ' -f1)-$(basename "$requested")"
  if [ ! -L "$requested/cluster" ] && [ -e "$state" ]; then
    # Left by an earlier PG_STATE_DIR of this name that has since been deleted: start afresh.
    running && as_owner "$bin/pg_ctl" -D "$state/data" -m immediate -w stop >/dev/null
    rm -rf "$state"
  fi
  if [ ! -L "$requested/cluster" ]; then
    echo "postgres.sh: the 'postgres' user cannot reach $requested (a folder above it is private); the cluster lives in $state (linked from $requested/cluster)" >&2
    ln -sfn "$state" "$requested/cluster"
  fi
  runuser -u postgres -- mkdir -p "$state"
}

start() {
  place_cluster
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
