#!/usr/bin/env bash
# A slow link is not a broken one (issue #13). A twinline server runs in its own network namespace, twl-slow, and a
# `twinline client` reaches it over a link shaped with tbf to a few Mbit/s, both channels sharing it, as they share a
# real client's bottleneck:
#
#   duplex  twl-s0 198.18.3.1/30 198.18.4.1/30 (root)  <->  twl-s1 198.18.3.2/30 198.18.4.2/30 (twl-slow),
#           each end's egress shaped, so each direction has the rate to itself (a WAN or mobile link)
#   shared  client and server both in twl-slow, over its loopback shaped at mtu 1500: both directions share one
#           bucket (a half-duplex medium; the issue's reproduction)
#
# HELLO goes to 198.18.3.2, so channel A; the server advertises 198.18.4.2 for every ATTACH, so channel B and every
# re-attach. tbf: a bucket of 64 KiB (64 ms at 8 Mbit/s) and a queue of up to 2 s of traffic (a deep uplink buffer);
# every connection uses cubic, which keeps that queue fuller than bbr (SLOWLINK_CONGCTL=bbr to compare). Both
# ends use the image's default recovery policy (1 s heartbeat, 3 s idle timeout, 1 s probe). The client makes ledger
# calls both ways (--payload is the size of the add bodies in both directions; answers are 8 bytes):
#
#   case  link    rate      bodies  in flight each way  run   expect
#   1     duplex  8 Mbit/s  64 KiB  64                  20 s  no recovery
#   2     duplex  8 Mbit/s  1 MiB   8 (24 calls back)   25 s  no recovery
#   3     duplex  2 Mbit/s  1 KiB   256                 20 s  no recovery
#   4     duplex  8 Mbit/s  4 MiB   2 (6 calls back)    20 s  A's connection, then B's, reset at the server (ss -K in
#                                                             twl-slow) in the middle of a body, 1.5 s after a call
#                                                             on it was answered: one recovery each
#   5     shared  8 Mbit/s  64 KiB  64                  20 s  no recovery
#
# A case passes when the client exits 0 with failed=0 and ledger=match (every call answered, and both totals equal
# what was sent: none lost or run twice, in either direction), the server ran exactly the calls the client made
# (its calls_handled), the client ran exactly the calls the server made back (its handled=), and the recoveries
# counted by the client, by the server and as RECOVERING -> NORMAL lines in the client's log each equal the number
# of resets. One line per case, with the packets tbf dropped; exit 1 if any
# case failed.
#
# Needs root, iproute2 (ip, ss, tc with the tbf qdisc), curl and the image: mvn -B package -DskipTests.
#   faults/slowlink.sh            (about 2.5 min; logs, /status and tc statistics in faults/out/slow-*)
#   faults/slowlink.sh 2 4        (cases 2 and 4 only)
# Two knobs, to try remedies for what a control frame waits behind (docs/PERFORMANCE.md, "Reset soak and fault runs"):
#   SLOWLINK_NOTSENT_LOWAT=N      sets net.ipv4.tcp_notsent_lowat to N bytes inside twl-slow (the server's sockets,
#                                 and the client's too in case 5): the kernel then takes no more unsent bytes than N
#   SLOWLINK_FLAGS="..."          more flags for both server and client, e.g. "--send-buffer-bytes 0"
#   SLOWLINK_CONGCTL=NAME         the congestion control of every connection instead of cubic, e.g. bbr
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=image/target/twinline/bin/twinline
OUT=faults/out
NS=twl-slow
PORT=7440 STATUS=7441
BURST=64kb LATENCY=2000ms
[ "$(id -u)" = 0 ] || { echo "slowlink: needs root" >&2; exit 1; }
[ -x "$IMG" ] || { echo "slowlink: build the image first: mvn -B package -DskipTests" >&2; exit 1; }
missing=()
command -v ip >/dev/null && command -v ss >/dev/null && command -v tc >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "slowlink: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$OUT"
rm -f "$OUT"/slow-*

server_pid="" client_pid=""
cleanup() {
  for p in $client_pid $server_pid; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true      # takes the veth pair with it
  ip link del twl-s0 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
if [ -n "${SLOWLINK_NOTSENT_LOWAT:-}" ]; then
  ip netns exec "$NS" sysctl -qw net.ipv4.tcp_notsent_lowat="$SLOWLINK_NOTSENT_LOWAT"
  echo "slowlink: net.ipv4.tcp_notsent_lowat=$SLOWLINK_NOTSENT_LOWAT in $NS"
fi
read -r -a extra_flags <<< "${SLOWLINK_FLAGS:-}"
ip link add twl-s0 type veth peer name twl-s1
ip link set twl-s1 netns "$NS"
ip link set twl-s0 mtu 1500
ip netns exec "$NS" ip link set twl-s1 mtu 1500
ip addr add 198.18.3.1/30 dev twl-s0
ip addr add 198.18.4.1/30 dev twl-s0
ip netns exec "$NS" ip addr add 198.18.3.2/30 dev twl-s1
ip netns exec "$NS" ip addr add 198.18.4.2/30 dev twl-s1
ip link set twl-s0 up
ip netns exec "$NS" ip link set twl-s1 up
# Every connection of the script uses cubic, whatever the host's default (bbr on this project's machines): Linux's
# usual default, it keeps more of the shaper's queue filled than bbr, so round trips under load are longer.
CONGCTL=${SLOWLINK_CONGCTL:-cubic}
[ "$CONGCTL" = cubic ] || echo "slowlink: congestion control $CONGCTL"
for net in 3 4; do
  ip route replace 198.18.$net.0/30 dev twl-s0 src 198.18.$net.1 congctl "$CONGCTL"
  ip netns exec "$NS" ip route replace 198.18.$net.0/30 dev twl-s1 src 198.18.$net.2 congctl "$CONGCTL"
  ip netns exec "$NS" ip route replace local 198.18.$net.2 dev twl-s1 table local congctl "$CONGCTL"   # shared link
done

in_ns() { ip netns exec "$NS" "$@"; }

# Shapes the link of kind $1 to rate $2 and leaves the other unshaped.
shape() {
  tc qdisc del dev twl-s0 root 2>/dev/null || true
  in_ns tc qdisc del dev twl-s1 root 2>/dev/null || true
  in_ns tc qdisc del dev lo root 2>/dev/null || true
  in_ns ip link set lo mtu 65536
  if [ "$1" = duplex ]; then
    tc qdisc add dev twl-s0 root tbf rate "$2" burst $BURST latency $LATENCY
    in_ns tc qdisc add dev twl-s1 root tbf rate "$2" burst $BURST latency $LATENCY
  else
    in_ns ip link set lo mtu 1500        # else tbf drops lo's 64 KiB segments, larger than its bucket
    in_ns tc qdisc add dev lo root tbf rate "$2" burst $BURST latency $LATENCY
  fi
}

status() { in_ns curl -s --max-time 5 "http://127.0.0.1:$STATUS/status" || true; }
prom() { in_ns curl -s --max-time 5 "http://127.0.0.1:$STATUS/metrics" || true; }
# The server's heartbeat round trips (PING on B to its PONG) from its /metrics in file $1: the bucket bounds at or
# under which half, 99 % and all of them fell, and how many there were: "p50<=0.005s p99<=0.25s max<=0.5s n=20".
heartbeat_rtt() {
  awk -F'[{}"]' '/^twinline_heartbeat_round_trip_seconds_bucket/ { le[n] = $3; split($0, f, " "); c[n++] = f[2] }
    END {
      if (n == 0 || c[n - 1] == 0) { print "n=0"; exit }
      t = c[n - 1]; split("0.5 0.99 1", qs, " "); split("p50 p99 max", names, " "); out = ""
      for (j = 1; j <= 3; j++) for (i = 0; i < n; i++) if (c[i] >= qs[j] * t) { out = out names[j] "<=" le[i] "s "; break }
      print out "n=" t
    }' "$1"
}
# A number from the server's /status: totals.$1 (counts over every session it has held).
total() { status | sed -n "s/.*\"totals\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"; }
# The client's address of channel $1's connection (A or B), as the server sees it: 198.18.x.1:port.
peer_of() {
  local ch; ch=$(echo "$1" | tr AB ab)
  status | sed -n "s/.*\"channel_$ch\":{[^}]*\"peer\":\"\([0-9.]*:[0-9]*\)\".*/\1/p"
}
recovered() { grep -c "RECOVERING -> NORMAL" "$1" || true; }
# Packets the tbf qdiscs dropped, from `tc -s qdisc show` output in file $1.
tbf_dropped() { awk '/qdisc tbf/ {t = 1; next} t && /dropped/ {gsub(",", ""); d += $7; t = 0} END {print d + 0}' "$1"; }

# Bytes not yet acknowledged at the sending end of channel $1's connection to peer $2: the client's end for A (it
# sends the large requests on A), the server's for B.
unsent() {
  local ip=${2%:*} port=${2##*:}
  if [ "$1" = A ]; then
    $client_exec ss -Htn state established src "$ip" sport = "$port" | awk '{print $2; exit}'
  else
    in_ns ss -Htn state established dst "$ip" dport = "$port" | awk '{print $2; exit}'
  fi
}

# Resets channel $1's connection at the server in the middle of a body: 1.5 s after a call on it was answered since
# the last reset (the server's count of calls handled, A, or made, B, has grown), when its sender has at least 8 KiB
# unacknowledged (body bytes: control frames are tens of bytes). Calls are kept in flight, so the next bodies are on
# the way by then, and one of 4 MiB takes over 4 s at 8 Mbit/s.
reset_mid_transfer() {
  local ch=$1 counter before now peer="" q=0
  counter=$([ "$ch" = A ] && echo calls_handled || echo calls_made)
  before=$(total $counter); before=${before:-0}
  client_alive() {
    kill -0 "$client_pid" 2>/dev/null && return 0
    echo "slowlink: case $case: the client ended before reset $ch" >&2
    return 1
  }
  for _ in $(seq 600); do
    client_alive || return 1
    now=$(total $counter)
    [ "${now:-0}" -gt "$before" ] && break
    sleep 0.1
  done
  [ "${now:-0}" -gt "$before" ] || { echo "slowlink: case $case: no call answered on $ch: no reset" >&2; return 1; }
  sleep 1.5
  for _ in $(seq 100); do
    client_alive || return 1
    peer=$(peer_of "$ch")
    if [ -n "$peer" ]; then
      q=$(unsent "$ch" "$peer"); q=${q:-0}
      [ "$q" -ge 8192 ] && break
    fi
    sleep 0.1
  done
  if [ "$q" -lt 8192 ]; then
    echo "slowlink: case $case: channel $ch had no body bytes unacknowledged (last $q): no reset" >&2
    return 1
  fi
  echo "slowlink: case $case: reset $ch at the server (ss -K, client end $peer), $now calls answered on it," \
    "$q bytes unacknowledged at its sender"
  in_ns ss -K state established dst "${peer%:*}" dport = "${peer##*:}" >/dev/null 2>&1 || true # the recovery checks it
}

failed_cases=()
# run_case N LINK RATE SECONDS CLIENT_FLAGS... [-- CHANNEL...]: the channels to reset, in order (reset_mid_transfer).
run_case() {
  case=$1; local link=$2 rate=$3 seconds=$4; shift 4
  local flags=() resets=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; resets=("$@"); }
  local slog="$OUT/slow-$case-server.log" clog="$OUT/slow-$case-client.log" sjson="$OUT/slow-$case-status.json"
  client_exec=$([ "$link" = shared ] && echo "ip netns exec $NS" || true)
  shape "$link" "$rate"
  ip netns exec "$NS" "$IMG" server --bind 0.0.0.0 --port $PORT --advertise 198.18.4.2:$PORT \
    --status 127.0.0.1:$STATUS --log-level info "${extra_flags[@]}" > "$slog" 2>&1 &
  server_pid=$! # the JVM's: ip netns exec and bin/twinline exec
  for _ in $(seq 100); do grep -q "listening" "$slog" && break; sleep 0.2; done
  grep -q "listening" "$slog" || { echo "slowlink: case $case: server did not start" >&2; cat "$slog" >&2; exit 1; }

  # A client still running a minute after its last call is stopped with SIGTERM (exit 124), and the case fails.
  $client_exec timeout -k 10 $((seconds + 60)) "$IMG" client --connect 198.18.3.2:$PORT --seconds "$seconds" \
    "${flags[@]}" "${extra_flags[@]}" > "$clog" 2>&1 &
  client_pid=$!
  # The most bytes the server's kernel held unacknowledged on any of its connections, sampled every 0.2 s: what a
  # PONG or a small call written at that moment waited behind (PROTOCOL §2.4; Limits.sendBufferBytes).
  local qfile="$OUT/slow-$case-sendq.txt"
  ( while kill -0 "$client_pid" 2>/dev/null; do
      in_ns ss -Htn state established sport = :$PORT 2>/dev/null | awk '{print $2}'
      sleep 0.2
    done ) > "$qfile" &
  local sampler=$!
  local resets_ok=1 done_resets=0
  for r in "${resets[@]}"; do
    reset_mid_transfer "$r" || { resets_ok=0; break; }
    done_resets=$((done_resets + 1))
    for _ in $(seq 300); do # the next reset once this one is recovered
      [ "$(recovered "$clog")" -ge $done_resets ] && break
      kill -0 "$client_pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  local rc=0
  wait "$client_pid" || rc=$?
  client_pid=""
  wait "$sampler" 2>/dev/null || true
  local sendq_max sendq_ms
  sendq_max=$(sort -n "$qfile" | tail -n 1); sendq_max=${sendq_max:-0}
  sendq_ms=$(awk -v q="$sendq_max" -v r="${rate%mbit}" 'BEGIN {printf "%.0f", q * 8 / (r * 1000)}')
  status > "$sjson"
  prom > "$OUT/slow-$case-metrics.txt"
  local tcs="$OUT/slow-$case-tc.txt" # what the shapers passed and dropped
  { tc -s qdisc show dev twl-s0; in_ns tc -s qdisc show dev twl-s1; in_ns tc -s qdisc show dev lo; } > "$tcs" 2>&1 \
    || true
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""

  local line; line=$(grep "ledger=" "$clog" | tail -n 1 || true)
  field() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  metric() { sed -n "s/.*\"metrics\":{[^}]*\"$1\":\([0-9]*\).*/\1/p" "$sjson" 2>/dev/null || true; }
  flag() { # the value of client flag --$1, if given
    local i
    for ((i = 0; i + 1 < ${#flags[@]}; i++)); do if [ "${flags[i]}" = "--$1" ]; then echo "${flags[i + 1]}"; fi; done
  }
  local calls ok failed reverse reverse_ok ledger recoveries server_recoveries lines handled client_ran
  local want=${#resets[@]}
  calls=$(field calls) ok=$(field ok) failed=$(field failed) reverse=$(field reverse) reverse_ok=$(field reverse_ok)
  ledger=$(field ledger) recoveries=$(field recoveries) client_ran=$(field handled)
  server_recoveries=$(metric recoveries) handled=$(metric calls_handled) lines=$(recovered "$clog")
  # The server must have run each call exactly once: the client's adds, one reverse call per batch of calls back
  # (--reverse-calls of them, or max(concurrency, 100) with --seconds alone; docs/OPERATIONS.md §2.2), and the total.
  local batch concurrency handled_want=?
  concurrency=$(flag concurrency) batch=$(flag reverse-calls)
  batch=${batch:-$(( ${concurrency:-16} > 100 ? ${concurrency:-16} : 100 ))}
  [ -n "$calls" ] && [ -n "$reverse" ] && handled_want=$((calls + (reverse + batch - 1) / batch + 1))
  local verdict=passed
  if [ "$rc" != 0 ] || [ "$ledger" != match ] || [ "$failed" != 0 ] || [ "$ok" != "$calls" ] \
     || [ "$reverse_ok" != "$reverse" ] || [ "$handled" != "$handled_want" ] || [ "$client_ran" != "$reverse" ] \
     || [ "$recoveries" != "$want" ] \
     || [ "$server_recoveries" != "$want" ] || [ "$lines" != "$want" ] || [ "$resets_ok" != 1 ]; then
    verdict=FAILED
    failed_cases+=("$case")
  fi
  echo "slowlink: case $case $verdict: $link $rate ${flags[*]}${resets[*]:+ resets ${resets[*]}}:" \
    "${resets[*]:+resets done=$done_resets }recoveries=${recoveries:-?}/${server_recoveries:-?}" \
    "(client/server, want $want)" \
    "calls=${ok:-?}/${calls:-?} reverse=${reverse_ok:-?}/${reverse:-?} ledger=${ledger:-?}" \
    "server_ran=${handled:-?} (want $handled_want) client_ran=${client_ran:-?} (want ${reverse:-?})" \
    "replayed=$(metric replayed_requests)" \
    "duplicates=$(metric duplicates_suppressed) dropped=$(tbf_dropped "$tcs")" \
    "server_sendq_max=$sendq_max (${sendq_ms} ms at $rate)" \
    "server_heartbeat_rtt: $(heartbeat_rtt "$OUT/slow-$case-metrics.txt") exit=$rc elapsed=$(field elapsed)"
  [ "$rc" != 124 ] || echo "    the client was stopped: still running a minute after its last call" >&2
  if [ $verdict = FAILED ]; then
    grep -E "RECOVERING|DISCONNECTED|first error|session lost" "$clog" | head -n 8 | sed 's/^/    /' >&2 || true
  fi
}

wanted=("$@")
want() { [ ${#wanted[@]} = 0 ] || [[ " ${wanted[*]} " == *" $1 "* ]]; }
if want 1; then run_case 1 duplex 8mbit 20 --payload 65536 --concurrency 64; fi
if want 2; then run_case 2 duplex 8mbit 25 --payload 1048576 --concurrency 8 --reverse-calls 24; fi
if want 3; then run_case 3 duplex 2mbit 20 --payload 1024 --concurrency 256; fi
if want 4; then
  run_case 4 duplex 8mbit 20 --payload 4194304 --concurrency 2 --reverse-calls 6 -- A B
fi
if want 5; then run_case 5 shared 8mbit 20 --payload 65536 --concurrency 64; fi

if [ ${#failed_cases[@]} -gt 0 ]; then
  echo "slowlink: FAILED: case ${failed_cases[*]} (logs in $OUT/slow-*)" >&2
  exit 1
fi
echo "slowlink: passed: no recovery on a slow link, one per reset, every call answered exactly once"
