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

name=oidc.sh
# shellcheck source=deploy/lib.sh
. "$here/lib.sh"

install() { maven_jars "$here/oidc/pom.xml" "$libs" "mock-oauth2-server $version"; }

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
  ports_free "$port" || die "127.0.0.1:$port is in use by another process (set OIDC_PORT)."
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

stop() { stop_process 10; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  issuer) echo "$issuer" ;;
  status) if running; then echo "running, issuer $issuer (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|restart|status|install|issuer" >&2; exit 2 ;;
esac
