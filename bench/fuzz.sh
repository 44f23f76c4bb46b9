#!/usr/bin/env bash
# Mutated frames at a live server (the image's, in its own process) over many connections while a well-behaved
# session keeps calling it (io.twinline.bench.Fuzz). Passes only if the server is still up and logged no ERROR, the
# good session never failed, and the server's open files, threads and heap after a GC are back to their baseline
# once the fuzz's connections have timed out.
#
#   mvn -B -q package -DskipTests && mvn -B -q -Pbench package -DskipTests && bench/fuzz.sh [frames=1000000] [workers=32] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES=${1:-1000000}
WORKERS=${2:-32}
SEED=${3:-}
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
JCMD="$(dirname "$JAVA")/jcmd"
JAR=bench/target/benchmarks.jar
TWINLINE=image/target/twinline/bin/twinline
PORT=${FUZZ_PORT:-7497}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${FUZZ_KEEP:-}" ] && echo "logs kept in $work" || rm -rf "$work"' EXIT

"$TWINLINE" server --port "$PORT" --status "127.0.0.1:$((PORT + 1))" --log-level warn \
  > "$work/server.out" 2> "$work/server.err" &
until grep -q listening "$work/server.out" 2>/dev/null; do sleep 0.2; done
pid=$(pgrep -f -n "TwinlineCommand server --port $PORT")
heap_kb() { "$JCMD" "$pid" GC.run > /dev/null; "$JCMD" "$pid" GC.heap_info | awk '/used/ {for (i = 1; i <= NF; i++) if ($i == "used") {sub("K", "", $(i+1)); print $(i+1); exit}}'; }
state() {
  echo "fds=$(ls /proc/"$pid"/fd | wc -l) threads=$(awk '/^Threads:/ {print $2}' /proc/"$pid"/status) heap_kb=$(heap_kb)"
}
# Warm the server a little, so the baseline is not a cold JVM's.
"$JAVA" --enable-preview -cp "$JAR" io.twinline.bench.Flood good "$PORT" 3 > /dev/null
sleep 1
before=$(state)
echo "server before: $before"
status=0
"$JAVA" --enable-preview -cp "$JAR" io.twinline.bench.Fuzz "$PORT" "$FRAMES" "$WORKERS" $SEED || status=$?
# What the fuzz left behind ends within the handshake timeout (5 s) or, for a session whose GOODBYE was lost, the
# re-attach window (20 s).
fds_before=$(echo "$before" | sed -n 's/.*fds=\([0-9]*\).*/\1/p')
for _ in $(seq 1 30); do
  [ "$(ls /proc/"$pid"/fd | wc -l)" -le "$((fds_before + 2))" ] && break
  sleep 1
done
after=$(state)
echo "server after:  $after"
fail() { echo "fuzz: FAILED: $*"; exit 1; }
kill -0 "$pid" 2>/dev/null || fail "the server is gone"
errors=$(grep -c " ERROR " "$work/server.err" || true)
echo "server: $(grep -c "malformed" "$work/server.err" || true) malformed-frame lines, $errors ERROR lines"
[ "$errors" -eq 0 ] || { grep -m 5 -A 5 " ERROR " "$work/server.err"; fail "the server logged ERROR"; }
[ "$status" -eq 0 ] || fail "the good session failed"
val() { echo "$1" | sed -n "s/.*$2=\([0-9]*\).*/\1/p"; }
[ "$(val "$after" fds)" -le "$(( $(val "$before" fds) + 2 ))" ] || fail "open files not back to baseline"
[ "$(val "$after" threads)" -le "$(( $(val "$before" threads) + 4 ))" ] || fail "threads not back to baseline"
[ "$(val "$after" heap_kb)" -le "$(( $(val "$before" heap_kb) + 16384 ))" ] || fail "heap more than 16 MiB above baseline"
echo "fuzz: passed"
