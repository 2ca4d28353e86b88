#!/usr/bin/env bash
# Configure and build into build/ (or $TT_BUILD_DIR). Extra arguments go to cmake.
#   scripts/build.sh                  RelWithDebInfo
#   scripts/build.sh -DTT_SANITIZE=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TT_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DTT_WERROR=ON "$@" >/dev/null
# the compiler's messages without the progress lines; a failed build fails here
# (binaries of an earlier build must not make it look like a success)
if ! cmake --build "$build" -j "$(nproc)" 2>&1 |
    { grep -vE '^\[ *[0-9]+%\]|^(Consolidate|Scanning|Built target)' || true; }; then
    echo "troupe: the build failed" >&2
    exit 1
fi
test -x "$build/bin/coordinator" && test -x "$build/bin/agentd" && test -x "$build/bin/fakellm"
