#!/usr/bin/env bash
# The Debian packages the hub needs on a machine without Docker, by what you are about to do:
#
#   deploy/prerequisites.sh run     make run:  Python (with venv), a JDK and Maven (the Kafka
#                                   broker's jars), npm (the pages' NHS.UK styles), curl
#   deploy/prerequisites.sh test    make test: the same, plus the PostgreSQL server and Chromium
#   deploy/prerequisites.sh bench   make bench: the same as test, plus wrk
#
# `make run` and `make test` call it first. Installs what is missing with apt-get when run
# as root; otherwise names the packages to install and exits 1. Quiet when all is present.
set -euo pipefail

profile="${1:-test}"
case "$profile" in run | test | bench) ;; *) echo "usage: $0 run|test|bench" >&2; exit 2 ;; esac

missing=()
command -v python3 >/dev/null || missing+=(python3)
python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v npm >/dev/null || missing+=(npm)
command -v curl >/dev/null || missing+=(curl)
if [ "$profile" != run ]; then
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
  command -v chromium-headless-shell >/dev/null || missing+=(chromium-headless-shell)  # the pages' browser tests
fi
if [ "$profile" = bench ]; then
  command -v wrk >/dev/null || missing+=(wrk)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  {
    echo "prerequisites.sh: 'make $profile' needs these packages, which are missing: ${missing[*]}"
    echo "  on Debian/Ubuntu: sudo apt-get install -y ${missing[*]}"
    echo "  (or run the same make command as root and it installs them itself)"
  } >&2
  exit 1
fi
echo "prerequisites.sh: installing ${missing[*]} (apt-get; once per machine)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "prerequisites.sh: installed ${missing[*]}"
