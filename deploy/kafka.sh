#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, combined broker+controller) on loopback,
# from Maven Central jars. No Docker needed.
#
#   deploy/kafka.sh start|stop|restart|crash|status|install
#
# Environment:
#   KAFKA_PORT        client port (default 9092); the controller uses KAFKA_PORT+1
#   KAFKA_STATE_DIR   data, config, log and pid (default .state/kafka-$KAFKA_PORT in the repo)
#   KAFKA_CACHE_DIR   downloaded jars, outside git (default ~/.cache/ics-hub)
#   KAFKA_HEAP_OPTS   JVM heap (default -Xms256m -Xmx512m)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")"
port="${KAFKA_PORT:-9092}"
ctrl_port="$((port + 1))"
state="${KAFKA_STATE_DIR:-$repo/.state/kafka-$port}"
cache="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ics-hub}"
libs="$cache/kafka-$version/libs"
pidfile="$state/kafka.pid"
logfile="$state/kafka.log"

die() { echo "kafka.sh: $*" >&2; exit 1; }

require_tools() {
  command -v java >/dev/null || die "Java is not installed. Install OpenJDK 17+ (apt-get install openjdk-17-jre-headless)."
}

install() {
  require_tools
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "Maven is not installed and the Kafka jars are not cached in $libs. Install Maven (apt-get install maven)."
  echo "kafka.sh: downloading Apache Kafka $version from Maven Central into $libs" >&2
  mkdir -p "$libs"
  mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime \
    || die "Maven could not resolve org.apache.kafka:kafka_2.13:$version (see the error above)."
  touch "$libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

configure() {
  mkdir -p "$state/data"
  cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$ctrl_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$state/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# One node: an offset commit should not wait to share a disk write (default 5 ms linger).
group.coordinator.append.linger.ms=0
PROPS
  cat > "$state/log4j2.properties" <<'PROPS'
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
PROPS
}

# Replaces the calling shell: always call it in a subshell, so a background
# start's $! is the JVM's own pid.
java_cmd() {
  # shellcheck disable=SC2086
  exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$state" -Dlog4j2.configurationFile="$state/log4j2.properties" \
    -cp "$libs/*" "$@"
}

# The broker binds without SO_REUSEADDR: for up to a minute after a broker on this port
# stopped, its closed connections (TIME_WAIT) make the bind fail. Wait for the ports rather
# than fail (tests restart brokers on the same port).
await_free_ports() {
  local waited=0
  while ! python3 - "$port" "$ctrl_port" <<'PY' 2>/dev/null
import socket, sys
for p in map(int, sys.argv[1:]):
    with socket.socket() as s:
        s.bind(("127.0.0.1", p))
PY
  do
    [ "$waited" = 0 ] && echo "kafka.sh: waiting for 127.0.0.1:$port/$ctrl_port to be free (closed connections linger up to 60 s)" >&2
    waited=$((waited + 1))
    [ "$waited" -ge 90 ] && die "127.0.0.1:$port or :$ctrl_port is in use by another process."
    sleep 1
  done
}

start() {
  if running; then echo "kafka.sh: already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; return 0; fi
  install
  configure
  if [ ! -f "$state/data/meta.properties" ]; then
    cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    (java_cmd kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$state/server.properties" -g >/dev/null)
  fi
  await_free_ports
  : > "$state/server.log"
  (java_cmd kafka.Kafka "$state/server.properties") >"$logfile" 2>&1 </dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 180); do
    if grep -q "Kafka Server started" "$state/server.log" 2>/dev/null; then
      echo "kafka.sh: Kafka $version ready on 127.0.0.1:$port"
      return 0
    fi
    running || { tail -n 30 "$logfile" "$state/server.log" >&2; die "the broker exited during start-up (logs above)."; }
    sleep 0.5
  done
  tail -n 30 "$state/server.log" >&2
  die "the broker did not report 'Kafka Server started' within 90 s."
}

stop() {
  if ! running; then rm -f "$pidfile"; echo "kafka.sh: not running"; return 0; fi
  pid="$(cat "$pidfile")"
  kill "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "kafka.sh: stopped"; return 0; }
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "kafka.sh: killed after 60 s"
}

crash() {  # SIGKILL, as a lost machine would: used by make chaos
  if running; then kill -9 "$(cat "$pidfile")"; rm -f "$pidfile"; echo "kafka.sh: killed"; fi
}

case "${1:-}" in
  install) install ;;
  crash) crash ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|restart|crash|status|install" >&2; exit 2 ;;
esac
