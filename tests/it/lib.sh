# Shared helpers for integration tests (sourced). Real processes, temporary
# directories, and small assertions that say what failed.
set -euo pipefail
SRC=${TT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${TT_BIN_DIR:-$SRC/build/bin}
COORD=$BIN/coordinator
AGENTD=$BIN/agentd
FAKELLM=$BIN/fakellm
TMP=$(mktemp -d /tmp/tt-it-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill -9 "$p" 2>/dev/null || true; done
    # everything started with this test's directory on its command line: a
    # coordinator left running after a failure would hold ctest's output pipe
    pkill -9 -f -- "$TMP" 2>/dev/null || true
    [[ -n "${TT_KEEP:-}" ]] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
assert_contains() { grep -qF -- "$2" "$1" || fail "$1 does not contain: $2"; }
assert_not_contains() { ! grep -qF -- "$2" "$1" || fail "$1 contains: $2"; }

# stats LOG KEY -> value of KEY in `coordinator log stats`
stats() { "$COORD" log stats "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }

# Processes whose command line mentions this test's directory.
our_processes() { pgrep -f -- "$TMP" || true; }

# Start fakellm on a free port: sets FAKE_PID and FAKE_URL. Extra args pass through.
start_fakellm() {
    # a new file each time: a fakellm started again must not be read from its predecessor's
    local out
    out=$(mktemp "$TMP/fakellm.out.XXXXXX")
    "$FAKELLM" --port 0 "$@" >"$out" 2>"$TMP/fakellm.err" &
    FAKE_PID=$!
    PIDS+=("$FAKE_PID")
    local deadline=$((SECONDS + 60)) # a deadline, not a count: a loaded machine is slow
    until [[ -s $out ]]; do
        kill -0 "$FAKE_PID" 2>/dev/null || break
        [[ $SECONDS -lt $deadline ]] || break
        sleep 0.05
    done
    local port
    port=$(head -1 "$out")
    [[ "$port" =~ ^[0-9]+$ ]] || fail "fakellm did not print a port"
    FAKE_URL="http://127.0.0.1:$port"
}
fake_stat() { curl -s "$FAKE_URL/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# wait_for_step LOG N [TIMEOUT_S]: until the log holds N committed steps
# (default deadline 300 s: a loaded machine may take that long to start a run).
# Reads the log while it is being written (a partial tail is ignored).
wait_for_step() {
    local deadline=$((SECONDS + ${3:-300})) got=0
    while [[ $SECONDS -lt $deadline ]]; do
        if [[ -s "$1" ]]; then
            got=$("$COORD" log stats --compact "$1" 2>/dev/null | grep -o '"steps":[0-9]*' | cut -d: -f2)
            [[ ${got:-0} -ge $2 ]] && return 0
        fi
        sleep 0.05
    done
    fail "$1 did not reach step $2 (at ${got:-0})"
}
