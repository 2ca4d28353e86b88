#!/usr/bin/env bash
# The README's own command, from the repository root with a relative --out:
#   coordinator run examples/scenarios/market_research.json --out out/mr
# (its factory people are made under OUT and found there, whatever the working
# directory), then extracted, resumed and replayed with the same relative paths.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
rel=$(realpath --relative-to="$SRC" "$TMP")/mr # relative, but outside the tree
[[ $rel != /* ]] || fail "not a relative path: $rel"
"$COORD" run examples/scenarios/market_research.json --out "$rel" --quiet 2>"$TMP/e" ||
    { cat "$TMP/e"; fail "run with --out $rel exited $?"; }
for f in sim.tlog transcript.txt results.json factory/factory.json; do
    [[ -s $rel/$f ]] || fail "no $f"
done
people=$(ls "$rel"/factory/*.agent.json | wc -l)
[[ $people -eq 6 ]] || fail "$people factory people, want 6"
[[ $(stats "$rel/sim.tlog" agents) -ge 6 ]] || fail "the factory's people did not run"
"$COORD" extract "$rel" --quiet 2>"$TMP/e" || { cat "$TMP/e"; fail "extract exited $?"; }
"$COORD" run examples/scenarios/market_research.json --out "$rel" --resume --quiet ||
    fail "resume exited $?"
"$COORD" run examples/scenarios/market_research.json --out "$rel-2" --replay "$rel/sim.tlog" \
    --quiet || fail "replay exited $?"
[[ $(stats "$rel/sim.tlog" final_hash) == $(stats "$rel-2/sim.tlog" final_hash) ]] ||
    fail "replay differs"
[[ -z $(git -C "$SRC" status --porcelain --untracked-files=all -- out 2>/dev/null) ]] ||
    fail "wrote into the source tree"
pass "market_research.json with --out $rel from the repository root"
