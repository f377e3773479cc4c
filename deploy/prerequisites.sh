#!/usr/bin/env bash
# System packages the hub needs on a machine without Docker: a JDK and Maven (for the
# Kafka broker's jars) and the PostgreSQL server. Installs what is missing with apt-get
# when run as root; otherwise says what to install.
set -euo pipefail

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v wrk >/dev/null || missing+=(wrk)  # load generator for bench/
command -v chromium >/dev/null || missing+=(chromium)  # dashboard tests, headless
command -v npm >/dev/null || missing+=(npm)  # the dashboard's NHS.UK styles and axe-core

if [ ${#missing[@]} -eq 0 ]; then
  echo "prerequisites.sh: Java, Maven, PostgreSQL, Python, wrk, Chromium and npm are present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "prerequisites.sh: please install: ${missing[*]}" >&2
  exit 1
fi
echo "prerequisites.sh: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
