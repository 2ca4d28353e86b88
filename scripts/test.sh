#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run ctest (unit tests,
# integration tests with real processes, chaos, fuzz and sanitizer stages).
#   scripts/test.sh              everything CI runs
#   scripts/test.sh -L unit      only one ctest label (unit, integration, chaos)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --test
"$root/scripts/build.sh"
cd "${TT_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
