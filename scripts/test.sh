#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run ctest (unit tests,
# integration tests with real processes, chaos), then the sanitizer stage
# (scripts/test-sanitize.sh: the same suite under ASan + UBSan in build-asan/)
# and the fuzz stage (scripts/test-fuzz.sh: libFuzzer targets in build-fuzz/).
#   scripts/test.sh              everything CI runs
#   scripts/test.sh -L unit      only one ctest label (unit, integration, chaos), and
#                                no sanitizer or fuzz stage (arguments go to ctest)
# Environment:
#   TT_SKIP_SANITIZE=1           skip the sanitizer stage
#   TT_SKIP_FUZZ=1               skip the fuzz stage
#   TT_FUZZ_SECONDS=N            fuzzing time per target (default 20; 0 = replay only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --test
"$root/scripts/build.sh"
start=$SECONDS
(
    cd "${TT_BUILD_DIR:-$root/build}"
    ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
)
echo "troupe: main tests took $((SECONDS - start)) s"
[[ $# -eq 0 ]] || exit 0
if [[ "${TT_SKIP_SANITIZE:-0}" != 1 ]]; then
    "$root/scripts/test-sanitize.sh"
fi
if [[ "${TT_SKIP_FUZZ:-0}" != 1 ]]; then
    "$root/scripts/test-fuzz.sh"
fi
echo "troupe: all stages took $((SECONDS - start)) s"
