#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, combined broker+controller) on loopback,
# from Maven Central jars, and Kafka's own command-line tools. No Docker needed.
#
#   deploy/kafka.sh start|stop|restart|crash|status|install
#   deploy/kafka.sh <tool> [arguments]     Kafka's command-line tools, e.g.
#     deploy/kafka.sh topics --list
#     deploy/kafka.sh topics --describe --topic feedback.events
#     deploy/kafka.sh console-consumer --topic feedback.events --from-beginning --property print.key=true
#     echo 'key:value' | deploy/kafka.sh console-producer --topic some.topic --property parse.key=true --property key.separator=:
#     deploy/kafka.sh consumer-groups --describe --all-groups
#   deploy/kafka.sh tools                  lists them (Apache's bin/kafka-<tool>.sh, same arguments)
#   Tools that talk to a broker get --bootstrap-server $KAFKA_BOOTSTRAP_SERVERS, or this
#   script's broker (127.0.0.1:$KAFKA_PORT), unless you give --bootstrap-server yourself.
#
# Environment:
#   KAFKA_PORT        client port (default 9092); the controller uses KAFKA_PORT+1
#   KAFKA_STATE_DIR   data, config, log and pid (default .state/kafka-$KAFKA_PORT in the repo)
#   KAFKA_CACHE_DIR   downloaded jars, outside git (default ~/.cache/ics-hub)
#   KAFKA_HEAP_OPTS   JVM heap (default -Xms256m -Xmx512m)
#   KAFKA_GC_OPTS     JVM garbage collector (default -XX:+UseG1GC)
#   KAFKA_TOOLS_OPTS  JVM options of the tools (default: a small heap, quick start-up)
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
# Class data sharing: the classes a broker loads, kept in an archive the JVM maps at start
# instead of loading and checking them again (a broker's start took 2.4 CPU-s instead of 3.6
# here). Written by the first broker to stop cleanly; any JVM ignores an archive it cannot use.
archive="$cache/kafka-$version/classes.jsa"

name=kafka.sh
# shellcheck source=deploy/lib.sh
. "$here/lib.sh"

install() { maven_jars "$here/kafka/pom.xml" "$libs" "Apache Kafka $version (broker and tools)"; }

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
# After a SIGKILL the controller, restarting with the broker, gives the dead broker's
# registration a fresh session and refuses the new one (DUPLICATE_BROKER_REGISTRATION) until
# that session lapses: 9 s by default. Heartbeats on loopback every 0.5 s allow a 3 s session.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
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
  exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} ${KAFKA_GC_OPTS:--XX:+UseG1GC} -Djava.awt.headless=true \
    -Dkafka.logs.dir="$state" -Dlog4j2.configurationFile="$state/log4j2.properties" \
    -cp "$libs/*" "$@"
}

# A broker still exiting gets a few seconds to free its ports; anything else listening is named.
await_free_ports() {
  local tries=0
  until ports_free "$port" "$ctrl_port"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 20 ]; then
      ss -ltnp 2>/dev/null | grep -E ":($port|$ctrl_port)\b" >&2 || true
      die "127.0.0.1:$port or :$ctrl_port is in use by another process (above). Stop it, or choose another KAFKA_PORT."
    fi
    sleep 0.5
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
  rm -f "$state/classes.jsa"
  local shared
  shared_classes "$state/classes.jsa"
  (java_cmd "${shared[@]}" kafka.Kafka "$state/server.properties") >"$logfile" 2>&1 </dev/null &
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

# The JVM's options for the archive, in the array `shared`: map it where there is one; else,
# given a file (a broker), write one there as the JVM exits.
shared_classes() {
  shared=(-Xlog:cds=off -Xlog:cds+dynamic=off)
  if [ -f "$archive" ]; then
    shared+=("-XX:SharedArchiveFile=$archive")
  elif [ -n "${1:-}" ]; then
    shared+=("-XX:ArchiveClassesAtExit=$1")
  fi
}

stop() {
  stop_process 60
  # Written as the JVM exited (a broker killed leaves none, or half of one): taken into the
  # cache only once a JVM has mapped it whole (a truncated archive crashes the JVM that maps it).
  if [ -s "$state/classes.jsa" ] && [ ! -f "$archive" ] &&
    (cd "$state" && java -Xshare:on -XX:SharedArchiveFile="$state/classes.jsa" -cp "$libs/*" -version >/dev/null 2>&1); then
    mv -f "$state/classes.jsa" "$archive"
  fi
  rm -f "$state/classes.jsa" "$state"/hs_err_pid*.log
}

crash() {  # SIGKILL, as a lost machine would: used by make chaos
  if running; then
    pid="$(cat "$pidfile")"
    kill -9 "$pid"
    # The signal is delivered at once but the process takes a moment to die and free its
    # ports: return once it has, so that a start straight after finds them free.
    for _ in $(seq 1 100); do gone "$pid" && break; sleep 0.1; done
    rm -f "$pidfile"
    echo "kafka.sh: killed"
  fi
}

# Kafka's command-line tools: the name of Apache's bin/kafka-<name>.sh, its main class.
tools=(
  topics:org.apache.kafka.tools.TopicCommand
  console-producer:org.apache.kafka.tools.ConsoleProducer
  console-consumer:org.apache.kafka.tools.consumer.ConsoleConsumer
  consumer-groups:org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
  get-offsets:org.apache.kafka.tools.GetOffsetShell
  configs:kafka.admin.ConfigCommand
  delete-records:org.apache.kafka.tools.DeleteRecordsCommand
  log-dirs:org.apache.kafka.tools.LogDirsCommand
  metadata-quorum:org.apache.kafka.tools.MetadataQuorumCommand
  broker-api-versions:org.apache.kafka.tools.BrokerApiVersionsCommand
  features:org.apache.kafka.tools.FeatureCommand
  groups:org.apache.kafka.tools.GroupsCommand
  share-groups:org.apache.kafka.tools.consumer.group.ShareGroupCommand
  transactions:org.apache.kafka.tools.TransactionsCommand
  acls:org.apache.kafka.tools.AclCommand
  leader-election:org.apache.kafka.tools.LeaderElectionCommand
  reassign-partitions:org.apache.kafka.tools.reassign.ReassignPartitionsCommand
  dump-log:kafka.tools.DumpLogSegments
  storage:kafka.tools.StorageTool
)
offline_tools=" dump-log storage "  # work on files: no --bootstrap-server

tool_class() {
  local entry
  for entry in "${tools[@]}"; do
    [ "${entry%%:*}" = "$1" ] && { echo "${entry#*:}"; return 0; }
  done
  return 1
}

list_tools() {
  echo "Kafka $version command-line tools (as Apache's bin/kafka-<tool>.sh; --help for each):"
  local entry
  for entry in "${tools[@]}"; do printf '  %s %-20s %s\n' "$0" "${entry%%:*}" "${entry#*:}"; done
  echo "Tools that talk to a broker get --bootstrap-server ${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$port} unless you give one."
}

run_tool() {
  local name="${1#kafka-}" class arg
  name="${name%.sh}"
  shift
  class="$(tool_class "$name")" || { list_tools >&2; die "no tool named '$name'."; }
  install
  local args=("$@")
  if [[ "$offline_tools" != *" $name "* ]]; then
    local given=""
    for arg in "$@"; do
      case "$arg" in --bootstrap-server | --bootstrap-server=* | --bootstrap-controller | --bootstrap-controller=* | --broker-list) given=1 ;; esac
    done
    [ -n "$given" ] || args=(--bootstrap-server "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$port}" "$@")
  fi
  local shared
  shared_classes  # the broker's archive holds the client classes a tool loads too
  # shellcheck disable=SC2086
  exec java ${KAFKA_TOOLS_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1} "${shared[@]}" -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/kafka/tools-log4j2.properties" \
    -cp "$libs/*" "$class" "${args[@]}"
}

case "${1:-}" in
  install) install ;;
  crash) crash ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "running on 127.0.0.1:$port (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
  tools) list_tools ;;
  "" | -h | --help | help)
    echo "usage: $0 start|stop|restart|crash|status|install, or $0 <tool> [arguments] (tools: $0 tools)" >&2
    exit 2 ;;
  *) run_tool "$@" ;;
esac
