#!/usr/bin/env bash
# Bad input is refused with file:line:col and exit 2, and nothing is written.
source "$(dirname "$0")/lib.sh"
expect_bad() { # expect_bad NAME CONTENT EXPECTED-PREFIX
    local f=$TMP/$1 out=$TMP/out-$1
    printf '%s' "$2" > "$f"
    set +e
    "$COORD" run "$f" --out "$out" >"$TMP/o" 2>"$TMP/e"
    local rc=$?
    set -e
    [[ $rc -eq 2 ]] || fail "$1: exit $rc, want 2"
    grep -q "^$3" "$TMP/e" || { cat "$TMP/e"; fail "$1: no '$3' message"; }
    [[ ! -e $out ]] || fail "$1: wrote $out"
}
expect_bad syntax.json '{"world": {}, "agents": [' "$TMP/syntax.json:1:"
expect_bad type.json '{"world": {}, "steps": "many", "agents": []}' "$TMP/type.json:1:24: steps"
expect_bad agent.json '{"world": {}, "agents": ["missing.agent.json"]}' "$TMP/missing.agent.json:1:1: cannot open"
printf '{"type":"TinyPerson","persona":{"name":42}}' > "$TMP/num.agent.json"
expect_bad usesnum.json '{"world": {}, "agents": ["num.agent.json"]}' "$TMP/num.agent.json:1:"
# an existing run is never overwritten
OUT=$TMP/done
"$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$OUT" --steps 1 --quiet
before=$(sha256sum "$OUT/sim.tlog")
set +e; "$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$OUT" --quiet 2>"$TMP/e"; rc=$?; set -e
[[ $rc -eq 2 ]] || fail "second run into the same --out: exit $rc"
[[ "$(sha256sum "$OUT/sim.tlog")" == "$before" ]] || fail "existing log changed"
# usage errors
set +e; "$COORD" run >/dev/null 2>&1; rc=$?; set -e
[[ $rc -eq 2 ]] || fail "run without arguments: exit $rc"
set +e; "$COORD" frobnicate >/dev/null 2>&1; rc=$?; set -e
[[ $rc -eq 2 ]] || fail "unknown command: exit $rc"
"$COORD" --help | grep -q "Usage" || fail "--help"
"$AGENTD" --help | grep -q "Usage" || fail "agentd --help"
"$FAKELLM" --help | grep -qi "usage" || fail "fakellm --help"
pass "bad input: file:line:col, exit 2, nothing written"
