#!/usr/bin/env bash
# Runs the benchmark suite: twinline, gRPC-java (default and direct executor) and a raw-socket floor in the same
# run, so every figure can be read as a ratio on this noisy machine. Writes JMH's JSON into bench/results/.
#
#   mvn -B -Pbench package -DskipTests      # once: builds bench/target/benchmarks.jar
#   bench/run.sh quick                      # a quick look (~18 min on 2 cores)
#   bench/run.sh full                       # the annotated warmup/measurement (~45 min)
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
[ -x "$JAVA" ] || { echo "bench: no JDK 25 under /usr/lib/jvm" >&2; exit 1; }
JAR=bench/target/benchmarks.jar
[ -f "$JAR" ] || { echo "bench: build it first: mvn -B -Pbench package -DskipTests" >&2; exit 1; }
OUT=bench/results
mkdir -p "$OUT"
mode=${1:-quick}
case "$mode" in
  quick) OPTS=(-wi 1 -w 2s -i 3 -r 3s); FORKS=(-f 1) ;;
  full) OPTS=(); FORKS=() ;;
  *) echo "usage: bench/run.sh [quick|full]" >&2; exit 2 ;;
esac
jmh() { "$JAVA" --enable-preview -jar "$JAR" "$@"; }

echo "== latency, one caller (JMH's platform worker thread), 64 B and 1 KiB"
jmh LatencyBench "${OPTS[@]}" "${FORKS[@]}" -rf json -rff "$OUT/latency-$mode.json"
echo "== latency, one caller on a virtual thread (as the throughput callers and the project's users), 64 B and 1 KiB"
jmh LatencyBench "${OPTS[@]}" "${FORKS[@]}" -jvmArgsAppend "-Xmx2g -Djmh.executor=VIRTUAL" \
  -rf json -rff "$OUT/latency-virtual-$mode.json"
echo "== head-of-line: a 64 B call's latency while a 16 MiB echo is kept in flight on the same session, on another, or none"
# No -jvmArgsAppend here: it would replace the annotation's -Djmh.executor=VIRTUAL. The fork's lines on the large
# calls completed during each iteration are kept in the .txt.
jmh HeadOfLineBench "${OPTS[@]}" "${FORKS[@]}" -rf json -rff "$OUT/head-of-line-$mode.json" \
  | tee "$OUT/head-of-line-$mode.txt"
echo "== throughput, 1 / 64 / 1024 callers, 64 B"
jmh 'ThroughputBench' -p peer=twinline,grpc-default,grpc-direct,raw,raw-yield "${OPTS[@]}" "${FORKS[@]}" -rf json -rff "$OUT/throughput-$mode.json"
echo "== the goal's ratio: 64 callers, twinline against the floor, three JVM forks (runs differ between forks)"
jmh 'ThroughputBench' -p peer=twinline,raw,raw-yield,grpc-direct -p callers=64 "${OPTS[@]}" -f 3 \
  -rf json -rff "$OUT/throughput64-forks-$mode.json"
echo "== reverse direction (server calls client over channel B), 64 callers"
jmh 'ThroughputBench' -p peer=twinline-reverse -p callers=64 "${OPTS[@]}" "${FORKS[@]}" -rf json -rff "$OUT/reverse-$mode.json"
echo "== allocation per call (-prof gc), 64 callers"
jmh 'ThroughputBench' -p peer=twinline,grpc-direct,grpc-default -p callers=64 -prof gc "${OPTS[@]}" "${FORKS[@]}" \
  -rf json -rff "$OUT/alloc-$mode.json"
echo "== JFR during one throughput run: pinned virtual threads"
jmh 'ThroughputBench' -p peer=twinline -p callers=1024 "${OPTS[@]}" "${FORKS[@]}" \
  -jvmArgsAppend "-XX:StartFlightRecording:filename=$OUT/throughput.jfr,jdk.VirtualThreadPinned#threshold=0ms" \
  -rf json -rff "$OUT/jfr-run-$mode.json"
JFR=$(dirname "$JAVA")/jfr
pinned=$("$JFR" print --events jdk.VirtualThreadPinned "$OUT/throughput.jfr" | grep -c "jdk.VirtualThreadPinned" || true)
echo "jdk.VirtualThreadPinned events: $pinned" | tee "$OUT/pinned-$mode.txt"
echo "== recovery times (200 resets per channel, default policy)"
"$JAVA" --enable-preview -cp "$JAR" io.twinline.bench.RecoveryTimes 200 5 | tee "$OUT/recovery-$mode.txt"
