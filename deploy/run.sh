#!/usr/bin/env bash
# `make run`: the whole hub on one machine, no Docker. Starts the Kafka broker (unless
# KAFKA_BOOTSTRAP_SERVERS names one), creates topics, migrates each service's store
# (SQLite files by default; PostgreSQL when INTAKE_/MEMBERSHIP_/NOTIFICATION_/
# REPORTING_DATABASE_URL are given, or HUB_LOCAL_POSTGRES=1 starts the project's own),
# runs every process under honcho, seeds the demo ICS and prints how to use it (last,
# and into .state/hub.txt: `make status` shows it again). Ctrl-C stops everything.
# Staff sign in to the console (:8005) through the project's own OpenID Connect provider
# (deploy/oidc.sh, port OIDC_PORT, default 8090) with its demo users, unless HUB_IDP_ISSUER
# names the organisation's own provider (then set CONSOLE_CLIENT_ID and CONSOLE_CLIENT_SECRET).
#
#   deploy/run.sh          start the hub (what `make run` does)
#   deploy/run.sh status   is it up? print the addresses and example requests again
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="$repo/.venv/bin:$PATH"
mkdir -p .state/logs
banner_file="$repo/.state/hub.txt"

if [ "${1:-start}" = status ]; then
  down=()
  for port in 8001 8002 8003 8004 8005; do
    curl -sf -m 3 "http://127.0.0.1:$port/readyz" >/dev/null || down+=("$port")
  done
  if [ ${#down[@]} -eq 5 ]; then
    echo "The hub is not running (nothing answers on 127.0.0.1:8001-8005). Start it with: make run"
    exit 1
  fi
  if [ ${#down[@]} -gt 0 ]; then echo "Not ready on port(s): ${down[*]} (see the make run terminal)."; fi
  [ -f "$banner_file" ] && cat "$banner_file"
  exit 0
fi

# People read this terminal: honcho pipes its children's output, so tell them to write for
# people (structlog's console renderer) rather than JSON. HUB_LOG_FORMAT=json to override.
if [ -t 1 ]; then export HUB_LOG_FORMAT="${HUB_LOG_FORMAT:-console}"; fi
rm -f "$banner_file"

export HUB_JWKS_PATH="${HUB_JWKS_PATH:-$repo/.state/dev-keys/jwks.json}"
# Development mode: a service without its secrets (MEMBERSHIP_LINK_SECRET, ...) makes this
# machine's own, kept in .state/secrets/ (mode 600), instead of refusing to start. Only
# make run, the tests and the benchmarks set it; a deployment gives every secret.
export HUB_DEVELOPMENT_MODE=1
export HUB_SMTP_PORT="${HUB_SMTP_PORT:-1025}"
export HUB_MAIL_DIR="${HUB_MAIL_DIR:-$repo/.state/mail}"

supervisor=""
own_kafka=""
own_oidc=""
stop_all() {
  local status="${1:-0}"
  trap - INT TERM EXIT
  echo
  echo "run.sh: stopping the hub..."
  rm -f "$banner_file"
  if [ -n "$supervisor" ]; then kill -TERM "$supervisor" 2>/dev/null || true; wait "$supervisor" 2>/dev/null || true; fi
  if [ -n "$own_kafka" ]; then deploy/kafka.sh stop; fi
  if [ -n "$own_oidc" ]; then deploy/oidc.sh stop; fi
  echo "run.sh: stopped."
  exit "$status"
}
# Ctrl-C and SIGTERM are how a person stops the hub, even while it starts: a clean stop, exit 0.
trap 'stop_all 0' INT TERM
trap 'stop_all $?' EXIT

if [ -z "${HUB_IDP_ISSUER:-}" ]; then
  own_oidc=1
  deploy/oidc.sh start
  export HUB_IDP_ISSUER="$(deploy/oidc.sh issuer)"
  # The demo provider's client: its secret is this machine's own (the provider checks PKCE).
  if [ -z "${CONSOLE_CLIENT_SECRET:-}" ]; then
    CONSOLE_CLIENT_SECRET="$(python -c 'from hub_shared.settings import development_secret as s; print(s("console-client-secret"))')"
    export CONSOLE_CLIENT_SECRET
  fi
fi

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  own_kafka=1
  deploy/kafka.sh start
  export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:${KAFKA_PORT:-9092}"
fi

if [ "${HUB_LOCAL_POSTGRES:-}" = 1 ]; then
  deploy/postgres.sh start
  export INTAKE_DATABASE_URL="${INTAKE_DATABASE_URL:-$(deploy/postgres.sh url feedback_intake)}"
  export MEMBERSHIP_DATABASE_URL="${MEMBERSHIP_DATABASE_URL:-$(deploy/postgres.sh url membership)}"
  export NOTIFICATION_DATABASE_URL="${NOTIFICATION_DATABASE_URL:-$(deploy/postgres.sh url notification)}"
  export REPORTING_DATABASE_URL="${REPORTING_DATABASE_URL:-$(deploy/postgres.sh url reporting)}"
fi

hub topics create
# The demo ICS, from files in NHS ODS's published layouts: the same import an ICS runs with its own.
demo_ods="$repo/shared/src/hub_shared/reference/demo"
hub reference import --practices "$demo_ods/epraccur.csv" --sub-icb-locations "$demo_ods/eccg.csv" \
  --icbs "$demo_ods/icbs.csv" --successions "$demo_ods/succ.csv"
# ...and its registered patients, in the layout of NHS England's "Patients Registered at a GP Practice".
hub reference population "$demo_ods/gp-reg-pat-prac-sing-age-male.csv" "$demo_ods/gp-reg-pat-prac-sing-age-female.csv"
# ...and the GP Patient Survey's practice results on involvement in decisions, in the survey's file layout.
hub reference survey "$demo_ods/GPPS_2026_Practice_data_weighted.csv" --year 2026 --question Q90
hub token --org QZZ >/dev/null  # creates the development signing keys on first run
for service in feedback-intake membership notification reporting console; do
  "$service" migrate
done

honcho start -f deploy/Procfile -d "$repo" &
supervisor=$!

for port in 8001 8002 8003 8004 8005; do
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    kill -0 "$supervisor" 2>/dev/null || { echo "run.sh: a process exited during start-up (see above)"; exit 1; }
    sleep 0.5
  done
done

hub seed --intake-url http://127.0.0.1:8001 --membership-url http://127.0.0.1:8002
token="$(hub token --org 01A --ttl 86400)"
sleep 2  # let the seeded events' log lines pass, so that the banner is the last thing printed
cat > "$banner_file" <<INFO

  ICS Engagement Hub is running.

  Staff console    http://127.0.0.1:8005   (sign in through the demo identity provider, $HUB_IDP_ISSUER)
                   choose one of the demo ICS's staff on its sign-in page:
                     Asha Patel, ICB analyst                 Demo Integrated Care Board (QZZ): reports for the whole ICS
                     Ben Okafor, place engagement officer    Northvale Place (01A) and its practices
                     Carys Evans, practice manager           Church Street Surgery (P81001) and its PPG

  feedback-intake  http://127.0.0.1:8001/docs   (AsyncAPI: /asyncapi.json)
  membership       http://127.0.0.1:8002/docs   (join as a patient partner: http://127.0.0.1:8002/join)
  feedback page    http://127.0.0.1:8002/f/P81001  (a practice's; its A4 QR poster: http://127.0.0.1:8002/poster/P81001)
  notification     http://127.0.0.1:8003/docs
  reports, emails  http://127.0.0.1:8005/reports and /emails  (in the console: no token to paste)
  reporting        http://127.0.0.1:8004/docs
  Kafka            $KAFKA_BOOTSTRAP_SERVERS
  mail sink        smtp://127.0.0.1:$HUB_SMTP_PORT  -> $HUB_MAIL_DIR (Maildir)
  mailbox          http://127.0.0.1:8003/mailbox  (every email the hub sent; follow its links)
  email templates  http://127.0.0.1:8003/templates
  dead letters     .venv/bin/hub dlq list feedback.events
  emails to send   .venv/bin/hub contacts links you@example.org   (confirmation and other links,
                   from the contacts topic until the notification service sends them)

  For machine clients and curl only (staff use the console above), a token for Northvale Place
  (01A), valid for a day (another: .venv/bin/hub token --org 02B):

  export TOKEN=$token

  Post feedback as Northvale Place, for one of its practices:

  curl -s -X POST http://127.0.0.1:8001/v1/feedback \\
    -H "Authorization: Bearer \$TOKEN" \\
    -H "Content-Type: application/json" \\
    -d '{"organisation_code": "P81001", "service_area": "general_practice", "channel": "fft_sms",
         "fft_answer": "very_good", "text": "Seen on time, kind staff.", "occurred_at": "2026-11-20T09:30:00Z"}'

  ...and see it counted for the place:

  curl -s http://127.0.0.1:8004/v1/reports/feedback-volume/01A -H "Authorization: Bearer \$TOKEN"

  See this again: make status (or .state/hub.txt)          Ctrl-C stops everything.

INFO
cat "$banner_file"
wait "$supervisor"
