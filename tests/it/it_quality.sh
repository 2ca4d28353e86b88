#!/usr/bin/env bash
# [ActionGenerator] quality checks against fakellm planting a poor first action
# (--poor-first-turn: every turn call not yet told it failed the checks answers
# with stuttering actions). Without the checks the stutter is what the agents
# say. With them each tentative answer is judged (a "quality" call), rejected,
# regenerated with the feedback ("regenerate") and judged again; the better one
# is kept. Replay serves every judge and regeneration from the log: zero
# requests, the same final hash. Direct correction ("correct") and
# CONTINUE_ON_FAILURE=False are checked the same way.
source "$(dirname "$0")/lib.sh"
start_fakellm --poor-first-turn
export OPENAI_BASE_URL=$FAKE_URL/v1
SC=$SRC/examples/scenarios/focus_group.json
POOR="well well well well um um um um so so so so"
run() { # run NAME CONFIG-LINES...: a 2-step run with these [ActionGenerator] keys
    local name=$1
    shift
    printf '[ActionGenerator]\n' > "$TMP/$name.ini"
    printf '%s\n' "$@" >> "$TMP/$name.ini"
    "$COORD" run "$SC" --out "$TMP/$name" --llm openai --config "$TMP/$name.ini" --steps 2 \
        --quiet 2> "$TMP/$name.err" || true
}
# purposes NAME: per agent-step, the exchanges' purposes (space-separated), one line each
purposes() {
    "$COORD" log dump "$TMP/$1/sim.tlog" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    for a in r.get("body", {}).get("step", {}).get("agents", []):
        print(" ".join(x.get("purpose", "") for x in a.get("exchanges", [])
                       if x.get("purpose") != "embedding"))'
}

# without quality checks the planted action is what the agents do
run off "ENABLE_QUALITY_CHECKS=False"
assert_contains "$TMP/off/transcript.txt" "$POOR"
[[ -z $(purposes off | grep -E 'quality|regenerate') ]] || fail "checks off, yet judged"

# with them: judged, rejected, regenerated, kept
run on "ENABLE_QUALITY_CHECKS=True" "ENABLE_QUALITY_CHECK_FOR_FLUENCY=True" "QUALITY_THRESHOLD=6"
[[ -s $TMP/on/sim.tlog ]] || { cat "$TMP/on.err"; fail "the run with checks did not run"; }
[[ $(stats "$TMP/on/sim.tlog" failed_agent_steps) -eq 0 ]] || fail "agent steps failed"
purposes on > "$TMP/on.purposes"
[[ $(wc -l < "$TMP/on.purposes") -eq 8 ]] || fail "want 8 agent-steps, got $(wc -l < "$TMP/on.purposes")"
bad=$(grep -vc '^turn quality regenerate quality$' "$TMP/on.purposes" || true)
[[ $bad -eq 0 ]] || { cat "$TMP/on.purposes"; fail "$bad agent-steps not judged-rejected-regenerated-judged"; }
"$COORD" log dump "$TMP/on/sim.tlog" > "$TMP/on.dump"
assert_contains "$TMP/on.dump" "$POOR" # the rejected attempts are recorded
assert_not_contains "$TMP/on/transcript.txt" "$POOR"
python3 - "$POOR" "$TMP/on.dump" <<'PY' || fail "committed actions or judge answers"
import json, sys
poor, judged = sys.argv[1], 0
for line in open(sys.argv[2]):
    r = json.loads(line)
    for a in r.get("body", {}).get("step", {}).get("agents", []):
        for x in a.get("actions", []):
            assert poor not in x.get("content", ""), "a rejected action was committed"
        for x in a.get("exchanges", []):
            if x.get("purpose") == "quality":
                scores = [s["value"] for s in json.loads(x["response"])["scores"]]
                assert scores, "a judge answer without scores"
                judged += 1
assert judged == 16, f"{judged} judge answers, want 16"
PY

# replay: zero requests, the same final hash
seen=$(fake_stat requests)
"$COORD" run "$SC" --out "$TMP/replay" --llm openai --config "$TMP/on.ini" --steps 2 --quiet \
    --replay "$TMP/on/sim.tlog"
[[ $(fake_stat requests) -eq $seen ]] || fail "replay made $(( $(fake_stat requests) - seen )) requests"
[[ $(stats "$TMP/replay/sim.tlog" llm_calls) -eq 0 ]] || fail "replay: llm_calls != 0"
[[ $(stats "$TMP/on/sim.tlog" final_hash) == $(stats "$TMP/replay/sim.tlog" final_hash) ]] ||
    fail "replay: final hash differs"

# direct correction instead of regeneration: the stutter rephrased, then passed
run fix "ENABLE_QUALITY_CHECKS=True" "ENABLE_REGENERATION=False" "ENABLE_DIRECT_CORRECTION=True" \
    "ENABLE_QUALITY_CHECK_FOR_FLUENCY=True" "QUALITY_THRESHOLD=6"
purposes fix > "$TMP/fix.purposes"
bad=$(grep -vc '^turn quality correct quality$' "$TMP/fix.purposes" || true)
[[ $bad -eq 0 ]] || { cat "$TMP/fix.purposes"; fail "$bad agent-steps not judged-corrected-judged"; }
assert_contains "$TMP/fix/transcript.txt" "well um so"
assert_not_contains "$TMP/fix/transcript.txt" "$POOR"

# nothing passes and CONTINUE_ON_FAILURE=True: the best attempt (the only one) is kept
run best "ENABLE_QUALITY_CHECKS=True" "ENABLE_REGENERATION=False" \
    "ENABLE_QUALITY_CHECK_FOR_FLUENCY=True"
assert_contains "$TMP/best/transcript.txt" "$POOR"
[[ $(stats "$TMP/best/sim.tlog" failed_agent_steps) -eq 0 ]] || fail "best: agent steps failed"

# CONTINUE_ON_FAILURE=False: the agent's step fails, saying why
run strict "ENABLE_QUALITY_CHECKS=True" "ENABLE_REGENERATION=False" "CONTINUE_ON_FAILURE=False" \
    "ENABLE_QUALITY_CHECK_FOR_FLUENCY=True"
"$COORD" log dump "$TMP/strict/sim.tlog" > "$TMP/strict.dump"
grep -q "failed the quality checks" "$TMP/strict.dump" ||
    { cat "$TMP/strict.err"; fail "strict: no step failed for quality"; }

# a bad value is refused with its place
printf '[ActionGenerator]\nQUALITY_THRESHOLD=12\n' > "$TMP/bad.ini"
set +e
"$COORD" run "$SC" --out "$TMP/bad" --llm openai --config "$TMP/bad.ini" --steps 1 --quiet 2> "$TMP/bad.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "QUALITY_THRESHOLD=12: exit $rc, want 2"
grep -q "bad.ini:2:" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "no file:line for QUALITY_THRESHOLD=12"; }
pass "quality checks: 8 poor first answers rejected and regenerated, replay with 0 requests; correction, best attempt, strict failure"
