#!/usr/bin/env bash
# Regenerate the generated part of the seed corpus (binary envelopes, records
# and logs) from a fresh two-step run of the focus-group example. Text seeds
# (answers, personas, ini files, scenarios) are committed as written.
#   tests/fuzz/make_corpus.sh [BUILD_DIR] [FUZZ_BUILD_DIR]
# BUILD_DIR holds bin/coordinator (default build/), FUZZ_BUILD_DIR holds
# fuzz/fuzz_seeds (default build-fuzz/).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
fuzz_build=${2:-$root/build-fuzz}
corpus=$root/tests/fuzz/corpus
tmp=$(mktemp -d /tmp/tt-corpus-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$build/bin/coordinator" run "$root/examples/scenarios/focus_group.json" --out "$tmp/run" \
    --steps 2 --quiet
mkdir -p "$corpus"/{wire,record,tlog,persona,scenario}
rm -f "$corpus"/wire/*.bin "$corpus"/record/*.bin "$corpus"/record/*.body "$corpus"/tlog/*.bin \
    "$corpus"/tlog/*.tlog
install -m 644 "$tmp/run/sim.tlog" "$corpus/tlog/focus_group_2_steps.tlog"
# a log cut in the middle of its last record: a torn tail
size=$(stat -c %s "$tmp/run/sim.tlog")
head -c $((size - 40)) "$tmp/run/sim.tlog" >"$corpus/tlog/torn_tail.tlog"
ASAN_OPTIONS=detect_leaks=0 "$fuzz_build/fuzz/fuzz_seeds" "$tmp/run/sim.tlog" "$corpus"
for f in "$root"/examples/agents/*.agent.json; do cp "$f" "$corpus/persona/"; done
cp "$root/examples/scenarios/focus_group.json" "$corpus/scenario/"
du -sh "$corpus"
