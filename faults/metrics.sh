#!/usr/bin/env bash
# Metrics under faults, as an operator scrapes them. A server with its status endpoint and a client with
# --faults and --metrics run on loopback. While calls flow both ways and the client's own faults are recovered,
# both /metrics outputs are scraped twice a second and each is checked with `promtool check metrics`. After the
# client has finished, the server's call counters must agree with the client's final line (every call counted
# once, however often it was re-sent), and a drain must turn /ready to 503 while /health stays 200. The client
# runs for 7 s, so its half-open A (the fourth fault, at 0.8 s intervals), whose unanswered calls are always
# replayed, is recovered and scraped before it ends.
#
# Needs the image (mvn -B package -DskipTests), curl and promtool (Debian's prometheus package); as root it
# installs what is missing.
#   faults/metrics.sh            (about 20 s; logs and scrapes in faults/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=image/target/twinline/bin/twinline
OUT=faults/out
PORT=7520 STATUS=7521 CLIENT_METRICS=7531
[ -x "$IMG" ] || { echo "metrics: build the image first: mvn -B package -DskipTests" >&2; exit 1; }
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v promtool >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "metrics: needs ${missing[*]} (apt-get install ${missing[*]})" >&2; exit 1; }
  echo "metrics: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$OUT"
rm -f "$OUT"/metrics-*

server_pid="" client_pid=""
cleanup() {
  for p in $client_pid $server_pid; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() { echo "metrics: FAILED: $*" >&2; exit 1; }
get() { curl -s -o "$2" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1" || echo 000; }

# Detection in a few hundred milliseconds, as the demo and netns.sh use.
POLICY=(--heartbeat-ms 200 --idle-timeout-ms 700 --probe-timeout-ms 400)
"$IMG" server --port $PORT --status 127.0.0.1:$STATUS --drain-ms 1500 "${POLICY[@]}" \
    >"$OUT/metrics-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  [ "$(get $STATUS/ready /dev/null)" = 200 ] && break
  sleep 0.1
done
[ "$(get $STATUS/ready /dev/null)" = 200 ] || fail "the server never became ready (see $OUT/metrics-server.log)"

"$IMG" client --connect 127.0.0.1:$PORT --seconds 7 --concurrency 16 --reverse-calls 9000 --payload 256 \
    --faults --fault-interval-ms 800 --metrics 127.0.0.1:$CLIENT_METRICS "${POLICY[@]}" \
    >"$OUT/metrics-client.log" 2>&1 &
client_pid=$!

checked_server=0 checked_client=0
while kill -0 "$client_pid" 2>/dev/null; do
  if [ "$(get $STATUS/metrics "$OUT/metrics-server.prom")" = 200 ]; then
    promtool check metrics <"$OUT/metrics-server.prom" >"$OUT/metrics-promtool.txt" 2>&1 \
      || fail "promtool on the server's /metrics: $(cat "$OUT/metrics-promtool.txt")"
    checked_server=$((checked_server + 1))
  fi
  if [ "$(get $CLIENT_METRICS/metrics "$OUT/metrics-client.prom")" = 200 ]; then
    promtool check metrics <"$OUT/metrics-client.prom" >"$OUT/metrics-promtool.txt" 2>&1 \
      || fail "promtool on the client's /metrics: $(cat "$OUT/metrics-promtool.txt")"
    checked_client=$((checked_client + 1))
  fi
  sleep 0.5
done
client_exit=0
wait "$client_pid" || client_exit=$?
client_pid=""
summary=$(grep -E '^calls=' "$OUT/metrics-client.log" | tail -1)
echo "metrics: client: $summary"
[ "$client_exit" = 0 ] || fail "the client exited $client_exit (see $OUT/metrics-client.log)"
[ "$checked_server" -ge 2 ] && [ "$checked_client" -ge 2 ] \
  || fail "too few scrapes while the client ran: server $checked_server, client $checked_client"

field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$summary"; }
sample() { awk -v k="$1" '$1 == k { print $2 }' "$OUT/metrics-server.prom"; }
ok=$(field ok) reverse=$(field reverse) reverse_ok=$(field reverse_ok) recoveries=$(field recoveries)
# The server counts the GOODBYE's close as it reads it: give it a moment after the client has exited.
for _ in $(seq 1 50); do
  [ "$(get $STATUS/metrics "$OUT/metrics-server.prom")" = 200 ] || fail "no /metrics after the run"
  [ "$(sample 'twinline_sessions_ended_total{state="closed"}')" = 1 ] && break
  sleep 0.1
done
handled=$(sample 'twinline_calls_total{direction="handled",outcome="ok"}')
made=$(sample 'twinline_calls_total{direction="made",outcome="ok"}')
closed=$(sample 'twinline_sessions_ended_total{state="closed"}')
server_recoveries=$(awk '$1 ~ /^twinline_recoveries_total/ { n += $2 } END { print n + 0 }' "$OUT/metrics-server.prom")
replayed=$(awk '$1 == "twinline_replayed_requests_total" { n += $2 } END { print n + 0 }' \
    "$OUT/metrics-server.prom" "$OUT/metrics-client.prom")
# The client's ledger calls, one 'reverse' call per batch of up to 10,000 calls back (Workload.REVERSE_BATCH), and
# its closing 'total': each counted once at the server, however often the client re-sent it.
expected=$((ok + (reverse + 9999) / 10000 + 1))
[ "$handled" = "$expected" ] || fail "server handled $handled calls; the client's line accounts for $expected"
[ "$made" = "$reverse_ok" ] || fail "server made $made calls; the client answered $reverse_ok"
[ "$closed" = 1 ] || fail "server counted $closed closed sessions, expected 1"
[ "$recoveries" -gt 0 ] || fail "the client's faults caused no recovery"
[ "$replayed" -gt 0 ] || fail "no request was replayed at either end: the exactly-once count was not exercised"
echo "metrics: server handled=$handled made=$made closed=$closed recoveries=$server_recoveries replayed=$replayed;" \
     "promtool clean on $checked_server server and $checked_client client scrapes"

# An orderly stop: /ready turns 503 at once, /health stays 200 until the server has closed.
kill -TERM "$server_pid"
for _ in $(seq 1 50); do
  [ "$(get $STATUS/ready /dev/null)" = 503 ] && break
  sleep 0.05
done
[ "$(get $STATUS/ready /dev/null)" = 503 ] || fail "/ready did not turn 503 after SIGTERM"
[ "$(get $STATUS/health /dev/null)" = 200 ] || fail "/health not 200 while draining"
server_exit=0
wait "$server_pid" || server_exit=$?
server_pid=""
[ "$server_exit" = 143 ] || fail "the server exited $server_exit after SIGTERM, expected 143"
echo "metrics: 4 passed, 0 failed"
