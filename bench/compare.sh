#!/usr/bin/env bash
# Compares two builds of the benchmarks on this noisy machine: runs them alternately (A, B, A, B, ...), each time
# twinline and the raw-socket floor in the same JVM run, and prints twinline's share of the floor per run, so that
# a change's cost reads as a ratio of ratios measured side by side.
#
#   git worktree add /tmp/before <commit> && (cd /tmp/before && mvn -B -q -Pbench package -DskipTests)
#   mvn -B -q -Pbench package -DskipTests
#   bench/compare.sh /tmp/before/bench/target/benchmarks.jar bench/target/benchmarks.jar [rounds=2]
#
# Throughput: 64 and 1,024 callers, 64 B. Latency: one caller on a virtual thread, 64 B. Each round takes about
# 3 minutes per jar. JSON in bench/results/compare-<label>-<round>-*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?usage: bench/compare.sh A.jar B.jar [rounds]}
B=${2:?usage: bench/compare.sh A.jar B.jar [rounds]}
ROUNDS=${3:-2}
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
[ -x "$JAVA" ] || { echo "compare: no JDK 25 under /usr/lib/jvm" >&2; exit 1; }
OUT=bench/results
mkdir -p "$OUT"
OPTS=(-wi 1 -w 2s -i 3 -r 3s -f 1)

ratios() {   # twinline / raw per parameter set, from one JMH JSON
  python3 - "$1" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
by = {}
for r in rows:
    p = r["params"]
    key = tuple(sorted((k, v) for k, v in p.items() if k != "peer"))
    metric = r["primaryMetric"]
    # SampleTime (latency): the median; throughput: the score.
    by.setdefault(key, {})[p["peer"]] = metric.get("scorePercentiles", {}).get("50.0", metric["score"]) \
        if r["mode"] == "sample" else metric["score"]
for key, peers in sorted(by.items()):
    if "twinline" in peers and "raw" in peers:
        label = " ".join(f"{k}={v}" for k, v in key)
        print(f"  {label:28s} twinline {peers['twinline']:12.1f}  raw {peers['raw']:12.1f}  "
              f"twinline/raw {peers['twinline'] / peers['raw']:.3f}")
PY
}

for round in $(seq 1 "$ROUNDS"); do
  for label in A B; do
    jar=$([ $label = A ] && echo "$A" || echo "$B")
    echo "== round $round, $label: $jar"
    base="$OUT/compare-$label-$round"
    "$JAVA" --enable-preview -jar "$jar" ThroughputBench -p peer=twinline,raw -p callers=64,1024 "${OPTS[@]}" \
      -rf json -rff "$base-throughput.json" >"$base-throughput.log" 2>&1
    echo " throughput (calls/s):"; ratios "$base-throughput.json"
    "$JAVA" --enable-preview -jar "$jar" LatencyBench -p peer=twinline,raw -p payload=64 "${OPTS[@]}" \
      -jvmArgsAppend "-Xmx2g -Djmh.executor=VIRTUAL" -rf json -rff "$base-latency.json" >"$base-latency.log" 2>&1
    echo " latency p50 (µs per call; lower is better, so twinline/raw above 1 is the overhead):"; ratios "$base-latency.json"
  done
done
