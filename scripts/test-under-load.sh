#!/usr/bin/env bash
# The whole suite (scripts/test.sh) run N times in a row while CPU burners
# occupy every core, as a busy machine would: tests must not depend on an idle
# CPU. Stops at the first failing run and exits with its status.
#   scripts/test-under-load.sh [RUNS]     default 3
# Environment:
#   TT_BURNERS=N      burner processes (default: one per core)
# Each run's output goes to build/under-load/run-K.log; a line per run on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
burners=${TT_BURNERS:-$(nproc)}
logs="$root/build/under-load"
mkdir -p "$logs"

pids=()
stop_burners() { ((${#pids[@]} == 0)) || kill "${pids[@]}" 2>/dev/null || true; }
trap stop_burners EXIT
for ((i = 0; i < burners; i++)); do
    # A busy loop in its own process: it takes a whole core while it can.
    bash -c 'while :; do :; done' &
    pids+=($!)
done
echo "troupe: $burners CPU burners started; $runs runs of scripts/test.sh"

for ((k = 1; k <= runs; k++)); do
    start=$SECONDS
    if "$root/scripts/test.sh" >"$logs/run-$k.log" 2>&1; then
        echo "troupe: run $k/$runs passed in $((SECONDS - start)) s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    else
        status=$?
        echo "troupe: run $k/$runs FAILED (exit $status) after $((SECONDS - start)) s; see $logs/run-$k.log"
        exit "$status"
    fi
done
echo "troupe: $runs of $runs runs passed under load"
