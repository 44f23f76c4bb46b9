#!/usr/bin/env bash
# Pinned virtual threads, counted in several JVMs: whether a JDK-internal race pins a thread differs from one JVM
# to the next, so one count says little. Runs a short ThroughputBench (twinline, 1,024 callers) with JFR recording
# every jdk.VirtualThreadPinned event (threshold 0), once per JVM, and prints each JVM's count and the first frame
# of each event and of twinline's code under it. Writes bench/results/pinned-runs.txt, and each JVM's events with
# their stacks to bench/results/pinned-run<N>.txt.
#
#   mvn -B -Pbench package -DskipTests && bench/pinned.sh [jvms=10]      # about 5 s per JVM
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
JAVA=$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n 1 || true)
[ -x "$JAVA" ] || { echo "pinned: no JDK 25 under /usr/lib/jvm" >&2; exit 1; }
JFR=$(dirname "$JAVA")/jfr
JAR=bench/target/benchmarks.jar
[ -f "$JAR" ] || { echo "pinned: build it first: mvn -B -Pbench package -DskipTests" >&2; exit 1; }
OUT=bench/results
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
counts=()
{
  for i in $(seq 1 "$RUNS"); do
    "$JAVA" --enable-preview -jar "$JAR" ThroughputBench -p peer=twinline -p callers=1024 \
      -wi 1 -w 1s -i 1 -r 2s -f 1 \
      -jvmArgsAppend "-XX:StartFlightRecording:filename=$work/run$i.jfr,jdk.VirtualThreadPinned#threshold=0ms" \
      > "$work/run$i.log" 2>&1 || { echo "JVM $i: benchmark failed, see below"; tail -20 "$work/run$i.log"; exit 1; }
    "$JFR" print --stack-depth 30 --events jdk.VirtualThreadPinned "$work/run$i.jfr" > "$work/run$i.txt"
    n=$(grep -c '^jdk.VirtualThreadPinned' "$work/run$i.txt" || true)
    counts+=("$n")
    echo "JVM $i: $n pinned"
    # Per event: the reason, the top frame, and the innermost frame of twinline's own code (who got there).
    awk '/pinnedReason/ { sub(/^ +/, ""); print "    " $0; ours = 1; next }
         /stackTrace = \[/ { top = 1; next }
         top { sub(/^ +/, ""); print "    top:  " $0; top = 0 }
         /io\.twinline\.(api|transport|recovery|host)\./ && ours { sub(/^ +/, ""); print "    ours: " $0; ours = 0 }' \
      "$work/run$i.txt"
    cp "$work/run$i.txt" "$OUT/pinned-run$i.txt"
  done
  echo "counts per JVM: ${counts[*]}"
} | tee "$OUT/pinned-runs.txt"
