#!/usr/bin/env bash
# Sessions at scale: one server process, two client processes (the per-process limit here is 20,000 open files;
# each session is two connections). Measures heap and RSS per idle session, CPU spent on heartbeats while idle (the
# server's, and the clients'), the throughput of 1,000 sessions calling at once, and the server's status endpoint
# (PORT + 1) with every session held: the size and time of /status (first and last page), /metrics and the page.
# Nothing fails on purpose here, so every session that ends DISCONNECTED, at either end, is a false failure: the
# counts are printed.
#
#   mvn -B -Pbench package -DskipTests && bench/scale.sh [sessions=9000] [idle-seconds=30]
# SCALE_HISTOGRAM=1 also writes the server's class histogram, once the sessions are connected, to
# bench/results/scale-histogram.txt (jcmd GC.class_histogram: where an idle session's heap goes).
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-9000}
IDLE=${2:-30}
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
JAR=bench/target/benchmarks.jar
OUT=bench/results
PORT=${SCALE_PORT:-7490}
mkdir -p "$OUT"
ulimit -n 20000
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${SCALE_KEEP:-}" ] && echo "logs kept in $work" || rm -rf "$work"' EXIT
mkfifo "$work/server.in" "$work/c1.in" "$work/c2.in"

"$JAVA" --enable-preview ${SCALE_JAVA_OPTS:-} -Xmx4g -cp "$JAR" io.twinline.bench.Scale server "$PORT" < "$work/server.in" > "$work/server.out" 2> "$work/server.err" &
exec 3> "$work/server.in"
until grep -q ready "$work/server.out" 2>/dev/null; do sleep 0.2; done
echo measure >&3
until grep -q "^measure" "$work/server.out"; do sleep 0.2; done
baseline=$(grep "^measure" "$work/server.out" | tail -n 1)

half=$((SESSIONS / 2))
"$JAVA" --enable-preview ${SCALE_JAVA_OPTS:-} -Xmx3g -cp "$JAR" io.twinline.bench.Scale clients "$PORT" "$half" < "$work/c1.in" > "$work/c1.out" 2> "$work/c1.err" &
exec 4> "$work/c1.in"
"$JAVA" --enable-preview ${SCALE_JAVA_OPTS:-} -Xmx3g -cp "$JAR" io.twinline.bench.Scale clients "$PORT" "$((SESSIONS - half))" < "$work/c2.in" > "$work/c2.out" 2> "$work/c2.err" &
exec 5> "$work/c2.in"
until grep -q connected "$work/c1.out" 2>/dev/null && grep -q connected "$work/c2.out" 2>/dev/null; do sleep 0.5; done
sleep 5
echo measure >&3
until [ "$(grep -c '^measure' "$work/server.out")" -ge 2 ]; do sleep 0.2; done
loaded=$(grep "^measure" "$work/server.out" | tail -n 1)
# The status endpoint with every session held: each page timed five times, the slowest kept.
endpoint=""
for path in "status?limit=50" "status?offset=8950&limit=50" "metrics" ""; do
  worst=0 bytes=0
  for _ in 1 2 3 4 5; do
    read -r secs size < <(curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$((PORT + 1))/$path")
    ms=$(awk "BEGIN{printf \"%d\", $secs * 1000}")
    [ "$ms" -gt "$worst" ] && worst=$ms
    bytes=$size
  done
  endpoint="$endpoint /$path ${bytes} B ${worst} ms;"
done
if [ -n "${SCALE_HISTOGRAM:-}" ]; then
  server_pid=$(jobs -p | head -n 1)
  "$(dirname "$JAVA")/jcmd" "$server_pid" GC.class_histogram > "$OUT/scale-histogram.txt"
fi
# Idle CPU is read around the idle time alone: not the endpoint's pages above, nor the GCs that measure forces.
echo cpu >&3; echo count >&4; echo count >&5
until [ "$(grep -c '^cpu' "$work/server.out")" -ge 1 ] && [ "$(grep -c '^count' "$work/c1.out")" -ge 1 ] \
    && [ "$(grep -c '^count' "$work/c2.out")" -ge 1 ]; do sleep 0.2; done
sleep "$IDLE"
echo cpu >&3; echo count >&4; echo count >&5
until [ "$(grep -c '^cpu' "$work/server.out")" -ge 2 ]; do sleep 0.2; done
echo measure >&3
until [ "$(grep -c '^measure' "$work/server.out")" -ge 3 ]; do sleep 0.2; done
idle=$(grep "^measure" "$work/server.out" | tail -n 1)
until [ "$(grep -c '^count' "$work/c1.out")" -ge 2 ] && [ "$(grep -c '^count' "$work/c2.out")" -ge 2 ]; do sleep 0.2; done
echo "burst 10 500" >&4
echo "burst 10 500" >&5
until grep -q "^burst" "$work/c1.out" && grep -q "^burst" "$work/c2.out"; do sleep 0.5; done
echo quit >&4; echo quit >&5; echo quit >&3

field() { echo "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }
n=$(field "$loaded" sessions)
heap=$(( ($(field "$loaded" heap_used_bytes) - $(field "$baseline" heap_used_bytes)) / n ))
rss=$(( ($(field "$loaded" rss_kib) - $(field "$baseline" rss_kib)) * 1024 / n ))
cpu=$(( $(field "$(grep '^cpu' "$work/server.out" | sed -n 2p)" cpu_ms) \
    - $(field "$(grep '^cpu' "$work/server.out" | sed -n 1p)" cpu_ms) ))
c1a=$(grep '^count' "$work/c1.out" | sed -n 1p); c1b=$(grep '^count' "$work/c1.out" | sed -n 2p)
c2a=$(grep '^count' "$work/c2.out" | sed -n 1p); c2b=$(grep '^count' "$work/c2.out" | sed -n 2p)
client_cpu=$(( $(field "$c1b" cpu_ms) - $(field "$c1a" cpu_ms) + $(field "$c2b" cpu_ms) - $(field "$c2a" cpu_ms) ))
client_lost=$(( $(field "$c1b" disconnected) + $(field "$c2b" disconnected) ))
client_recoveries=$(( $(field "$c1b" recoveries) + $(field "$c2b" recoveries) ))
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "client processes: $(cat "$work/c1.out" | head -n 1) | $(cat "$work/c2.out" | head -n 1)"
  grep -h "connect failed" "$work/c1.err" "$work/c2.err" 2>/dev/null | head -n 3 | sed "s/^/  first failures: /" || true
  echo "server baseline: $baseline"
  echo "server loaded:   $loaded"
  echo "server idle:     $idle"
  echo "sessions held by the server: $n"
  echo "heap per idle session (after GC): $heap bytes"
  echo "RSS per idle session: $rss bytes"
  echo "server CPU while $n sessions idle for ${IDLE}s: ${cpu} ms ($(awk "BEGIN{printf \"%.2f\", $cpu/($IDLE*10)}")% of one core)"
  echo "client CPU (both processes) over the same ${IDLE}s: ${client_cpu} ms ($(awk "BEGIN{printf \"%.2f\", $client_cpu/($IDLE*10)}")% of one core)"
  echo "sessions ended DISCONNECTED by the end of the idle time (none fails on purpose): server $(field "$idle" disconnected), clients ${client_lost}; recoveries started: server $(field "$idle" recoveries), clients ${client_recoveries}"
  echo "recoveries by channel/cause: server $(field "$idle" causes); clients $(field "$c1b" causes) + $(field "$c2b" causes)"
  echo "burst (1,000 sessions calling at once, 10 s): $(grep '^burst' "$work/c1.out") + $(grep '^burst' "$work/c2.out")"
  echo "status endpoint with $n sessions held (size, slowest of 5):$endpoint"
} | tee "$OUT/scale.txt"
