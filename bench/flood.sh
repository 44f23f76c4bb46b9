#!/usr/bin/env bash
# A well-behaved session's call latency without and then beside a flood of bogus connections (silent ones, HELLOs
# that never attach B, half frames, random bytes) from 60 loopback addresses, against the image's server in its own
# process with default limits. Prints both phases, what the server shed, and its open files, threads, RSS and heap
# after a GC before, during and after the flood (once its connections have timed out): the heap during the flood,
# less the heap before, over the connections then in handshake, is what one such connection costs.
#
#   mvn -B -q package -DskipTests && mvn -B -q -Pbench package -DskipTests && bench/flood.sh [seconds=20] [workers=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-20}
WORKERS=${2:-2000}
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
JAR=bench/target/benchmarks.jar
TWINLINE=image/target/twinline/bin/twinline
PORT=${FLOOD_PORT:-7495}
ulimit -n 20000
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$TWINLINE" server --port "$PORT" --status "127.0.0.1:$((PORT + 1))" --log-level warn > "$work/server.out" 2> "$work/server.err" &
server=$!
until grep -q listening "$work/server.out" 2>/dev/null; do sleep 0.2; done
pid=$(pgrep -f -n "io.twinline.host/io.twinline.host.cli.TwinlineCommand server --port $PORT" || echo "$server")
JCMD="$(dirname "$JAVA")/jcmd"
heap_kb() { "$JCMD" "$pid" GC.run > /dev/null; "$JCMD" "$pid" GC.heap_info | awk '/used/ {for (i = 1; i <= NF; i++) if ($i == "used") {sub("K", "", $(i+1)); print $(i+1); exit}}'; }
state() {
  echo "fds=$(ls /proc/"$pid"/fd | wc -l) threads=$(awk '/^Threads:/ {print $2}' /proc/"$pid"/status)" \
       "rss_kb=$(awk '/^VmRSS:/ {print $2}' /proc/"$pid"/status) heap_kb=$(heap_kb)"
}
metric() { curl -s "http://127.0.0.1:$((PORT + 1))/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
echo "server before: $(state)"
echo "without flood ($SECONDS_EACH s):"
"$JAVA" --enable-preview -cp "$JAR" io.twinline.bench.Flood good "$PORT" "$SECONDS_EACH"
echo "beside the flood ($SECONDS_EACH s, $WORKERS workers; the session connected before the flood began):"
"$JAVA" --enable-preview -cp "$JAR" io.twinline.bench.Flood good "$PORT" "$SECONDS_EACH" 4 > "$work/good.out" &
good=$!
sleep 2
"$JAVA" --enable-preview -cp "$JAR" io.twinline.bench.Flood flood "$PORT" "$((SECONDS_EACH + 4))" "$WORKERS" > "$work/flood.out" &
flood=$!
sleep 1.5 # within the good session's warm-up, so the GC this forces is not in its figures
echo "server during the flood: $(state)"
wait "$good"
cat "$work/good.out"
wait "$flood"
cat "$work/flood.out"
echo "server shed $(metric twinline_connections_shed_total) connections at accept;" \
     "malformed $(metric twinline_malformed_frames_total); sessions ended $(metric 'twinline_sessions_ended_total{state="disconnected"}') disconnected"
sleep 7 # the flood's last connections reach the handshake timeout (5 s), its sessions the B deadline
echo "server after: $(state)"
grep -c "reset at accept" "$work/server.err" | sed 's/^/server WARN lines about shedding: /'
