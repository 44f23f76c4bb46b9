#!/usr/bin/env bash
# Real network faults between two hosts (DESIGN §11): a twinline server in its own network namespace, reached from
# the root namespace over two separate links, one per channel:
#
#   link A  twl-a0 198.18.1.1/30 (root)  <->  twl-a1 198.18.1.2/30 (twl-srv)   HELLO, so channel A
#   link B  twl-b0 198.18.2.1/30 (root)  <->  twl-b1 198.18.2.2/30 (twl-srv)   every ATTACH (--advertise), so B
#
# A `twinline client` makes ledger calls both ways while this script, one fault at a time, each after the previous
# one was recovered: resets channel B's socket (ss -K), drops everything the server sends on link B (a half-open B:
# the client hears nothing, the server's writes vanish) and then lets it through again, cuts link B (re-attach
# tries fail with no route until it is back), and cuts link A (the interface goes down; the client re-attaches A
# over link B, the address the server advertises). It then checks the client's verdict: every call answered, both
# ledgers match, and one recovery per fault.
#
# Needs root, iproute2 (ip, ss), iptables (installed if missing) and the image: mvn -B package -DskipTests.
# Then all of it again with mutual TLS 1.3 on both channels (certificates from `twinline certs`).
#   faults/netns.sh            (about 90 s; logs in faults/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=image/target/twinline/bin/twinline
OUT=faults/out
NS=twl-srv
[ "$(id -u)" = 0 ] || { echo "netns: needs root" >&2; exit 1; }
[ -x "$IMG" ] || { echo "netns: build the image first: mvn -B package -DskipTests" >&2; exit 1; }
missing=()
command -v ip >/dev/null && command -v ss >/dev/null || missing+=(iproute2)
command -v iptables >/dev/null || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  echo "netns: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.log

server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  iptables -D INPUT -i twl-b0 -j DROP 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true      # takes both veth pairs with it
  ip link del twl-a0 2>/dev/null || true
  ip link del twl-b0 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
for l in a b; do
  n=$([ $l = a ] && echo 1 || echo 2)
  ip link add twl-${l}0 type veth peer name twl-${l}1
  ip link set twl-${l}1 netns "$NS"
  ip addr add 198.18.$n.1/30 dev twl-${l}0
  ip link set twl-${l}0 up
  ip netns exec "$NS" ip addr add 198.18.$n.2/30 dev twl-${l}1
  ip netns exec "$NS" ip link set twl-${l}1 up
done

# Detection in a few hundred milliseconds (the demo's policy); the client's budget (0.7 + 0.4 + 10 s) fits the
# server's 20 s window.
POLICY=(--heartbeat-ms 200 --idle-timeout-ms 700 --probe-timeout-ms 400)
run_faults() { # $1: plain or tls
  local mode=$1
  ip netns exec "$NS" "$IMG" server --bind 0.0.0.0 --port 7420 --advertise 198.18.2.2:7420 --status off \
    "${POLICY[@]}" --reattach-window-ms 20000 "${SERVER_TLS[@]}" > "$OUT/server-$mode.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do grep -q "listening" "$OUT/server-$mode.log" && break; sleep 0.2; done
  grep -q "listening" "$OUT/server-$mode.log" || { echo "netns ($mode): server did not start" >&2; cat "$OUT/server-$mode.log" >&2; exit 1; }

  "$IMG" client --connect 198.18.1.2:7420 --seconds 30 --concurrency 16 "${POLICY[@]}" \
    --recovery-time-limit-ms 10000 "${CLIENT_TLS[@]}" > "$OUT/client-$mode.log" 2>&1 &
  client_pid=$!

  recovered() { grep -c "RECOVERING -> NORMAL" "$OUT/client-$mode.log" || true; }
  await_recovery() { # $1: recoveries before the fault, $2: what
    for _ in $(seq 200); do
      [ "$(recovered)" -gt "$1" ] && { echo "netns ($mode): $2: recovered"; return 0; }
      kill -0 "$client_pid" 2>/dev/null || break
      sleep 0.1
    done
    echo "netns ($mode): $2: no recovery" >&2; return 1
  }
  await_normal() {
    for _ in $(seq 100); do grep -q "CONNECTING -> NORMAL" "$OUT/client-$mode.log" && return 0; sleep 0.1; done
    echo "netns ($mode): client did not connect" >&2; cat "$OUT/client-$mode.log" >&2; return 1
  }

  failed=0
  await_normal
  sleep 3

  before=$(recovered)
  echo "netns ($mode): reset channel B's socket (ss -K)"
  ss -K dst 198.18.2.2 dport = 7420 >/dev/null 2>&1 || true  # the recovery below is the check
  await_recovery "$before" "reset B" || failed=1
  sleep 2

  before=$(recovered)
  echo "netns ($mode): half-open B: drop what the server sends on link B for 2 s"
  iptables -I INPUT -i twl-b0 -j DROP
  sleep 2
  iptables -D INPUT -i twl-b0 -j DROP
  await_recovery "$before" "half-open B" || failed=1
  sleep 2

  before=$(recovered)
  echo "netns ($mode): cut link B (interface down) for 3 s: re-attach tries find no route until it is back"
  ip link set twl-b0 down
  sleep 3
  ip link set twl-b0 up
  await_recovery "$before" "link B cut" || failed=1
  sleep 2

  # Last, because a re-attached A moves to link B: after this both channels share link B.
  before=$(recovered)
  echo "netns ($mode): cut link A (interface down) for 3 s"
  ip link set twl-a0 down
  await_recovery "$before" "link A cut" || failed=1
  sleep 3
  ip link set twl-a0 up

  wait "$client_pid" && client_rc=0 || client_rc=$?
  verdict=$(grep "ledger=" "$OUT/client-$mode.log" | tail -n 1 || true)
  echo "netns ($mode): client exit $client_rc: $verdict"
  recoveries=$(echo "$verdict" | tr ' ' '\n' | grep '^recoveries=' | cut -d= -f2)
  if [ "$client_rc" != 0 ] || ! echo "$verdict" | grep -q "ledger=match" || [ "${recoveries:-0}" -lt 4 ] \
     || [ "$failed" != 0 ]; then
    echo "netns ($mode): FAILED (logs in $OUT/)" >&2
    tail -n 30 "$OUT/client-$mode.log" >&2
    exit 1
  fi
  echo "netns ($mode): passed: four network faults recovered, nothing lost or doubled"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

SERVER_TLS=()
CLIENT_TLS=()
run_faults plain

# The same faults with mutual TLS on both channels: throwaway certificates for "localhost", which the client checks
# instead of the addresses it dials.
rm -rf "$OUT/certs"
"$IMG" certs --dir "$OUT/certs" > /dev/null
pass=twinline-throwaway
SERVER_TLS=(--tls-keystore "$OUT/certs/server.p12" --tls-keystore-password "$pass" --tls-client-ca "$OUT/certs/ca.pem")
CLIENT_TLS=(--tls-trust "$OUT/certs/ca.pem" --tls-server-name localhost --tls-keystore "$OUT/certs/client.p12"
            --tls-keystore-password "$pass")
run_faults tls
grep -q "TLS 1.3, client certificates required" "$OUT/server-tls.log" \
  || { echo "netns (tls): the server did not run TLS" >&2; exit 1; }
echo "netns: passed with plain TCP and with mutual TLS"
