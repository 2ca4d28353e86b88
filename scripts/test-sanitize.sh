#!/usr/bin/env bash
# The sanitizer stage: the unit and integration tests of scripts/test.sh built
# with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/. Any
# memory error, leak or undefined behaviour in any test process (coordinator,
# every agentd it spawns, fakellm) fails its test.
#   scripts/test-sanitize.sh             labels unit and integration, but not
#                                        it_valgrind and it_install
#   scripts/test-sanitize.sh -L unit     other ctest arguments instead of the labels
# Environment: TT_ASAN_BUILD_DIR (build-asan), TT_JOBS (nproc).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TT_ASAN_BUILD_DIR:-$root/build-asan}
jobs=${TT_JOBS:-$(nproc)}
start=$SECONDS

cmake -S "$root" -B "$build" -DTT_SANITIZE=ON >/dev/null
if ! cmake --build "$build" -j "$jobs" >"$build/sanitize-build.log" 2>&1; then
    grep -vE '^\[ *[0-9]+%\]|^(Consolidate|Scanning|Built target)' "$build/sanitize-build.log" |
        tail -n 60
    echo "troupe: the sanitizer build failed (log: $build/sanitize-build.log)" >&2
    exit 1
fi
echo "troupe: sanitizer build took $((SECONDS - start)) s"

# Every child inherits these: leaks are reported when a process exits normally
# (kill -9 in the crash tests skips the check, as it should); the first error
# ends the process with a stack trace. Allocation stacks stop at libraries
# built without frame pointers (a leak "from json_array" and no caller): rerun
# that one test with ASAN_OPTIONS=...:fast_unwind_on_malloc=0 for the full
# stack (not the default: it makes every allocation several times slower).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

t0=$SECONDS
cd "$build"
# Left to the plain build: it_valgrind (valgrind cannot run ASan binaries) and
# it_install (it links an uninstrumented program against the installed library,
# which is instrumented here).
# The chaos label (timing-driven kills) has scripts/chaos.sh; arguments replace
# the label choice.
args=(-L '^(unit|integration)$')
[[ $# -gt 0 ]] && args=("$@")
rc=0
ctest --output-on-failure -j "$jobs" --timeout 900 -E '^(it_valgrind|it_install)$' "${args[@]}" ||
    rc=$?
echo "troupe: sanitizer tests took $((SECONDS - t0)) s (stage $((SECONDS - start)) s)"
exit $rc
