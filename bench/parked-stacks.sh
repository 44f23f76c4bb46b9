#!/usr/bin/env bash
# Heap taken by the stacks of 10,000 parked virtual threads, by park depth and JIT warmth (PERFORMANCE.md,
# "Sessions at scale"). Prints StackChunk bytes per thread for each case.
#   mvn -B -Pbench package -DskipTests && bench/parked-stacks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(dirname "$(ls -d /usr/lib/jvm/*25*/bin/java | head -n 1)")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for args in "5 0 3" "5 20000 3" "30 0 3" "30 20000 3"; do
  set -- $args
  "$BIN/java" -cp bench/target/benchmarks.jar io.twinline.bench.ParkedStacks "$1" "$2" "$3" > "$out" &
  pid=$!
  until grep -q ready "$out" 2>/dev/null; do sleep 0.2; done
  "$BIN/jcmd" "$pid" GC.class_histogram | awk -v d="$1" -v w="$2" -v r="$3" '/StackChunk/ {
    printf "depth=%s warmup=%s reparks=%s: %d chunks, %d bytes per thread\n", d, w, r, $2, $3 / 10000 }'
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
