#!/usr/bin/env bash
# The least an idle session's heartbeats can cost on this machine, with no twinline code: N sessions of two loopback
# connections each, four 13-byte frames per session per second (a PING and its PONG on each connection), one platform
# thread writing the PINGs on a 50 ms grid and a virtual-thread reader per connection answering them. Prints the
# server process's CPU over the idle time, to compare with bench/scale.sh's "server CPU while ... idle".
#
#   mvn -B -Pbench package -DskipTests && bench/heartbeat-floor.sh [sessions=9000] [seconds=20]
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-9000}
SECONDS_IDLE=${2:-20}
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
JAR=bench/target/benchmarks.jar
PORT=${FLOOR_PORT:-7494}
ulimit -n 40000 2>/dev/null || ulimit -n 20000
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkfifo "$work/server.in" "$work/client.in"
"$JAVA" -Xmx2g -cp "$JAR" io.twinline.bench.HeartbeatFloor server "$PORT" "$SESSIONS" < "$work/server.in" > "$work/server.out" 2>&1 &
exec 3> "$work/server.in"
sleep 2
"$JAVA" -Xmx2g -cp "$JAR" io.twinline.bench.HeartbeatFloor client "$PORT" "$SESSIONS" < "$work/client.in" > "$work/client.out" 2>&1 &
exec 4> "$work/client.in"
until grep -q ready "$work/server.out" 2>/dev/null && grep -q ready "$work/client.out" 2>/dev/null; do sleep 0.5; done
sleep 5
echo cpu >&3
until [ "$(grep -c '^cpu' "$work/server.out")" -ge 1 ]; do sleep 0.1; done
sleep "$SECONDS_IDLE"
echo cpu >&3
until [ "$(grep -c '^cpu' "$work/server.out")" -ge 2 ]; do sleep 0.1; done
a=$(grep '^cpu' "$work/server.out" | sed -n 1p | cut -d' ' -f2)
b=$(grep '^cpu' "$work/server.out" | sed -n 2p | cut -d' ' -f2)
echo "heartbeat floor: server CPU for $SESSIONS idle sessions over ${SECONDS_IDLE}s: $((b - a)) ms ($(awk "BEGIN{printf \"%.2f\", ($b - $a)/($SECONDS_IDLE*10)}")% of one core)"
echo quit >&3; echo quit >&4
