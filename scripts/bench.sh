#!/usr/bin/env bash
# Benchmarks: distance to the LLM-latency floor, throughput, tokens, memory.
#   scripts/bench.sh           the full run (several minutes); updates BENCHMARKS.md
#   scripts/bench.sh --quick   the small run (under a minute once built)
# Builds in Release into build-release/, starts fakellm, runs generated
# scenarios, prints a table and writes bench/results.json. Figures are medians
# of several runs with their spread; nothing is asserted (see BENCHMARKS.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --test
TT_BUILD_DIR=$root/build-release "$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=Release -DTT_TESTS=OFF
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 "$root/scripts/bench.py" --bin "$root/build-release/bin" "$@"
