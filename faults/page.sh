#!/usr/bin/env bash
# The status page in headless Chromium (docs/OPERATIONS.md, "The status page"): a twinline server with its status
# endpoint on loopback, two `twinline client`s making calls both ways, and faults/PageCheck.java, which opens
# http://127.0.0.1:S/ in Chromium over the DevTools protocol, resets one client's channel A socket (ss -K), and
# checks that the page shows that session's channel A go to RECOVERING and back to NORMAL, counts the recovery on
# its chart, keeps updating, and says so once the server is stopped. It fails if the page stops polling.
#
# Needs root (ss -K), iproute2, chromium (installed if missing), JDK 25 under /usr/lib/jvm (the source launcher
# runs PageCheck.java) and the image: mvn -B package -DskipTests.
#   faults/page.sh                                            (about 30 s; logs and screenshot in faults/out/)
#   PAGE_SCREENSHOT=docs/images/status-page.png faults/page.sh   (also refreshes the docs' screenshot)
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=image/target/twinline
OUT=faults/out
SHOT=${PAGE_SCREENSHOT:-$OUT/status-page.png}
[ "$(id -u)" = 0 ] || { echo "page: needs root (ss -K)" >&2; exit 1; }
[ -x "$IMG/bin/java" ] || { echo "page: build the image first: mvn -B package -DskipTests" >&2; exit 1; }
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1)
[ -n "$JAVA" ] || { echo "page: no JDK 25 under /usr/lib/jvm (see README)" >&2; exit 1; }
missing=()
command -v ss >/dev/null || missing+=(iproute2)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "page: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$OUT"
rm -f "$OUT"/page-*.log

# bin/twinline execs the JVM, so each pid below is the JVM itself.
TWINLINE=("$IMG/bin/twinline")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT


# Both ports 0: the server's stdout line names the ones it got.
"${TWINLINE[@]}" server --port 0 --status 127.0.0.1:0 > "$OUT/page-server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
port=""
for _ in $(seq 150); do
  port=$(sed -n 's/^twinline server listening on [^ ]*:\([0-9][0-9]*\),.*/\1/p' "$OUT/page-server.log")
  status_port=$(sed -n 's/^twinline server listening on .*status on http:\/\/[^ ]*:\([0-9][0-9]*\)\/$/\1/p' \
    "$OUT/page-server.log")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
[ -n "$port" ] && [ -n "$status_port" ] || { echo "page: server did not start" >&2; cat "$OUT/page-server.log" >&2; exit 1; }
echo "page: server on 127.0.0.1:$port, status page http://127.0.0.1:$status_port/"

# Calls both ways for longer than the check takes; they are stopped with the server at the end. Two clients, so the
# page shows more than one session; few callers each, because Chromium shares the machine with them.
for n in 1 2; do
  "${TWINLINE[@]}" client --connect "127.0.0.1:$port" --seconds 300 --concurrency 2 --log-level info \
    > "$OUT/page-client-$n.log" 2>&1 &
  pids+=("$!")
done

# The fault: the client's end of channel A (source port {port}, read from the page) is destroyed; the kernel resets
# the connection, so the server sees it fail too. --stop ends the server, which the page must then report.
rc=0
"$JAVA" faults/PageCheck.java --url "http://127.0.0.1:$status_port/" \
  --fault "ss -tK dst 127.0.0.1 dport = :$port sport = :{port}" \
  --stop "kill $server_pid" \
  --screenshot "$SHOT" --log "$OUT/page-chromium.log" | tee "$OUT/page-check.log" || rc=$?
if [ "$rc" != 0 ] || ! tail -n 1 "$OUT/page-check.log" | grep -q ", 0 failed$"; then
  echo "page: FAILED (logs in $OUT/page-*.log, screenshot $SHOT)" >&2
  tail -n 20 "$OUT/page-server.log" >&2
  exit 1
fi
echo "page: passed"
