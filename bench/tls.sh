#!/usr/bin/env bash
# What TLS costs twinline, beside what it costs gRPC-java, in one run: latency at one caller (virtual-thread caller,
# 64 B and 1 KiB) and throughput at 64 callers, each system with and without TLS 1.3 (the JDK's provider at both
# ends of both: twinline's SSLSocket, Netty's SslProvider.JDK), then the ratios with TLS / without; beside them the
# raw-socket floor with and without TLS (the same SSLSocket, read through a buffer): what TLS costs at the least.
#
#   mvn -B -q -Pbench package -DskipTests && bench/tls.sh [forks=1]     (~9 min with one fork)
set -euo pipefail
cd "$(dirname "$0")/.."
FORKS=${1:-1}
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
OUT=bench/results
mkdir -p "$OUT"
J=("$JAVA" --enable-preview -jar bench/target/benchmarks.jar)
PEERS=twinline,twinline-tls,grpc-direct,grpc-direct-tls,raw,raw-tls
"${J[@]}" LatencyBench -p peer=$PEERS -wi 1 -w 2s -i 3 -r 3s -f "$FORKS" \
  -jvmArgsAppend "-Xmx2g -Djmh.executor=VIRTUAL" -rf json -rff "$OUT/tls-latency.json" > "$OUT/tls-latency.txt"
"${J[@]}" ThroughputBench -p peer=$PEERS -p callers=64 -wi 1 -w 2s -i 3 -r 3s -f "$FORKS" \
  -jvmArgsAppend "-Xmx2g" -rf json -rff "$OUT/tls-throughput.json" > "$OUT/tls-throughput.txt"
python3 - "$OUT/tls-latency.json" "$OUT/tls-throughput.json" <<'PY'
import json, sys
def load(path):
    rows = {}
    for r in json.load(open(path)):
        p = r["params"]
        m = r["primaryMetric"]
        # Latency is sampled: its p50, as the goals use; throughput: the score.
        rows[(p["peer"], p.get("payload") or p.get("callers"))] = m.get("scorePercentiles", {}).get("50.0", m["score"]) \
            if m.get("scoreUnit", "").endswith("/op") else m["score"]
    return rows
lat, thr = load(sys.argv[1]), load(sys.argv[2])
print("latency p50 (us, lower is better) and its TLS cost (with TLS / without, and the microseconds TLS adds):")
for size in sorted({k[1] for k in lat}, key=int):
    t, tt = lat[("twinline", size)], lat[("twinline-tls", size)]
    g, gt = lat[("grpc-direct", size)], lat[("grpc-direct-tls", size)]
    r, rt = lat[("raw", size)], lat[("raw-tls", size)]
    print(f"  {size:>5} B: twinline {t:8.2f} -> {tt:8.2f} (x{tt/t:.2f}, +{tt-t:.1f})"
          f"   grpc-direct {g:8.2f} -> {gt:8.2f} (x{gt/g:.2f}, +{gt-g:.1f})"
          f"   raw floor {r:8.2f} -> {rt:8.2f} (x{rt/r:.2f}, +{rt-r:.1f})   twinline-tls / grpc-direct-tls {tt/gt:.2f}")
print("throughput at 64 callers (ops/s, higher is better) and its TLS cost (with / without):")
for callers in sorted({k[1] for k in thr}, key=int):
    t, tt = thr[("twinline", callers)], thr[("twinline-tls", callers)]
    g, gt = thr[("grpc-direct", callers)], thr[("grpc-direct-tls", callers)]
    r, rt = thr[("raw", callers)], thr[("raw-tls", callers)]
    print(f"  {callers:>5}: twinline {t:10.0f} -> {tt:10.0f} (x{tt/t:.2f})   grpc-direct {g:10.0f} -> {gt:10.0f} (x{gt/g:.2f})"
          f"   raw floor {r:10.0f} -> {rt:10.0f} (x{rt/r:.2f})   twinline-tls / grpc-direct-tls {tt/gt:.2f}")
PY
