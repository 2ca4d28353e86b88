#!/usr/bin/env bash
# Hardening (issue #20): what a crash, a hostile file or a full disk can do to
# a run, one reproduction each.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json
"$COORD" run "$SC" --out "$TMP/ref" --steps 3 --quiet 2>/dev/null
ref=$(stats "$TMP/ref/sim.tlog" final_hash)

# 10. A log that ends before its first whole record (killed while writing the
# header or the SimBegin, or cut into it) holds no run: `log verify` fails on
# it, and a run, with or without --resume, starts over it.
for cut in 0 16 40; do
    for resume in "" --resume; do
        d=$TMP/torn-$cut$resume
        mkdir -p "$d"
        head -c $cut "$TMP/ref/sim.tlog" > "$d/sim.tlog"
        ! "$COORD" log verify "$d/sim.tlog" > "$d.verify" 2>&1 || fail "log verify passes a log cut at byte $cut"
        assert_contains "$d.verify" "broken: "
        "$COORD" run "$SC" --out "$d" --steps 3 --quiet $resume 2>"$d.err" \
            || { cat "$d.err"; fail "run ${resume:-fresh} over a log cut at byte $cut"; }
        [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "cut at $cut $resume: final hash"
        [[ -z $resume ]] || assert_contains "$d.err" "nothing to resume"
    done
done
pass "a log without a whole SimBegin is no run: verify fails, run and --resume start over it"
