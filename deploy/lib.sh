# What deploy/kafka.sh and deploy/oidc.sh share: JVM programs from Maven Central jars, run on
# loopback under a pid file. Sourced, not run; the script sets `name` (its messages' prefix),
# `pidfile`, and calls these.

die() { echo "$name: $*" >&2; exit 1; }

# The jars of a pom's dependencies, copied once into `libs`. The marker names the pom's
# checksum: a changed pom (a dependency added) fetches what it adds, once.
maven_jars() {  # pom libs what
  local pom="$1" libs="$2" what="$3" marker
  command -v java >/dev/null || die "Java is not installed. Install OpenJDK 17+ (apt-get install openjdk-17-jre-headless)."
  marker="$libs/.complete-$(cksum < "$pom" | cut -d' ' -f1)"
  if [ -f "$marker" ]; then return 0; fi
  command -v mvn >/dev/null || die "Maven is not installed and the jars of $what are not cached in $libs. Install Maven (apt-get install maven)."
  echo "$name: downloading $what from Maven Central into $libs" >&2
  mkdir -p "$libs"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime \
    || die "Maven could not resolve $what (see the error above)."
  touch "$marker"
}

# A pid that is gone, or a zombie (dead, its parent yet to reap it).
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

running() { [ -f "$pidfile" ] && ! gone "$(cat "$pidfile")"; }

# Could a JVM bind these loopback ports now? Checked as Java binds, with SO_REUSEADDR, so
# the closed connections a killed process leaves in TIME_WAIT do not count; a listener does.
ports_free() {  # port...
  python3 - "$@" <<'PY' 2>/dev/null
import socket, sys
for p in map(int, sys.argv[1:]):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p))
PY
}

# SIGTERM, then up to `seconds` to exit, then SIGKILL.
stop_process() {  # seconds
  if ! running; then rm -f "$pidfile"; echo "$name: not running"; return 0; fi
  local pid
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true  # it may be exiting already (Ctrl-C reaches it too)
  for _ in $(seq 1 $(($1 * 4))); do
    gone "$pid" && { rm -f "$pidfile"; echo "$name: stopped"; return 0; }
    sleep 0.25
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "$name: killed after $1 s"
}
