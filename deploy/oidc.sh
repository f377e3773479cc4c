#!/usr/bin/env bash
# A real OpenID Connect provider for staff sign-in on one machine: navikt's mock-oauth2-server
# (a standards-complete OIDC server for local runs and tests: discovery, JWKS, authorization
# code with PKCE, refresh tokens, end session) from Maven Central jars, on loopback, with the
# demo ICS's staff as its users (deploy/oidc/demo-users.json, login page deploy/oidc/login.html).
# Development and tests only: in production the hub uses the organisation's own provider.
#
#   deploy/oidc.sh start|stop|restart|status|install|issuer
#
# Environment:
#   OIDC_PORT         port (default 8090); the issuer is http://127.0.0.1:$OIDC_PORT/ics-hub
#   OIDC_STATE_DIR    generated config, log and pid (default .state/oidc-$OIDC_PORT in the repo)
#   OIDC_CACHE_DIR    downloaded jars, outside git (default ~/.cache/ics-hub)
#   OIDC_TOKEN_EXPIRY lifetime of issued tokens in seconds (default 3600)
#   OIDC_HEAP_OPTS    JVM heap (default -Xms64m -Xmx256m)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
version="$(sed -n 's:.*<mock-oauth2-server.version>\(.*\)</mock-oauth2-server.version>.*:\1:p' "$here/oidc/pom.xml")"
port="${OIDC_PORT:-8090}"
issuer_id="ics-hub"
issuer="http://127.0.0.1:$port/$issuer_id"
state="${OIDC_STATE_DIR:-$repo/.state/oidc-$port}"
cache="${OIDC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ics-hub}"
libs="$cache/mock-oauth2-server-$version/libs"
pidfile="$state/oidc.pid"
logfile="$state/oidc.log"

die() { echo "oidc.sh: $*" >&2; exit 1; }

install() {
  command -v java >/dev/null || die "Java is not installed. Install OpenJDK 17+ (apt-get install openjdk-17-jre-headless)."
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "Maven is not installed and the provider's jars are not cached in $libs. Install Maven (apt-get install maven)."
  echo "oidc.sh: downloading mock-oauth2-server $version from Maven Central into $libs" >&2
  mkdir -p "$libs"
  mvn -q -B -f "$here/oidc/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime \
    || die "Maven could not resolve no.nav.security:mock-oauth2-server:$version (see the error above)."
  touch "$libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

configure() {
  mkdir -p "$state"
  # The demo users' config with this run's login page and token lifetime filled in.
  python3 - "$here/oidc/demo-users.json" "$here/oidc/login.html" "${OIDC_TOKEN_EXPIRY:-3600}" "$state/config.json" <<'PY'
import json, sys
source, login_page, expiry, target = sys.argv[1:]
config = json.load(open(source))
config.pop("_comment", None)
config["loginPagePath"] = login_page
for callback in config["tokenCallbacks"]:
    callback["tokenExpiry"] = int(expiry)
json.dump(config, open(target, "w"), indent=2)
PY
}

start() {
  if running; then echo "oidc.sh: already running, issuer $issuer (pid $(cat "$pidfile"))"; return 0; fi
  install
  configure
  python3 - "$port" <<'PY' 2>/dev/null || die "127.0.0.1:$port is in use by another process (set OIDC_PORT)."
import socket, sys
with socket.socket() as s:  # as the JVM binds (SO_REUSEADDR): closed connections do not count
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
PY
  # shellcheck disable=SC2086
  (exec env SERVER_HOSTNAME=127.0.0.1 SERVER_PORT="$port" JSON_CONFIG_PATH="$state/config.json" LOG_LEVEL=WARN \
     java ${OIDC_HEAP_OPTS:--Xms64m -Xmx256m} -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
     -cp "$libs/*" no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt) >"$logfile" 2>&1 </dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if curl -sf -m 2 "$issuer/.well-known/openid-configuration" >/dev/null 2>&1; then
      echo "oidc.sh: OpenID Connect provider ready, issuer $issuer"
      return 0
    fi
    running || { tail -n 30 "$logfile" >&2; die "the provider exited during start-up (log above)."; }
    sleep 0.25
  done
  tail -n 30 "$logfile" >&2
  die "the provider did not answer within 30 s."
}

stop() {
  if ! running; then rm -f "$pidfile"; echo "oidc.sh: not running"; return 0; fi
  pid="$(cat "$pidfile")"
  kill "$pid"
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "oidc.sh: stopped"; return 0; }
    sleep 0.25
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "oidc.sh: killed after 10 s"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  issuer) echo "$issuer" ;;
  status) if running; then echo "running, issuer $issuer (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|restart|status|install|issuer" >&2; exit 2 ;;
esac
