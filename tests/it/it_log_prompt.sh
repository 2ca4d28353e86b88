#!/usr/bin/env bash
# `coordinator log prompt LOG --agent NAME --step N`: the requests an agent sent
# in a step, rebuilt from the log alone (against fakellm, with episodes short
# enough that step 1 already consolidates), each with its digest checked against
# the one the log recorded: a turn, a consolidation and embedding calls, and a
# follow-up after RECALL. No model is called while rebuilding (fakellm is gone).
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json

start_fakellm
printf '[Cognition]\nMIN_EPISODE_LENGTH=2\nMAX_EPISODE_LENGTH=3\n' >"$TMP/short.ini"
OPENAI_BASE_URL=$FAKE_URL/v1 OPENAI_API_KEY=sk-it-secret-4711 \
    "$COORD" run "$SC" --out "$TMP/run" --config "$TMP/short.ini" --quiet --no-progress \
    2>"$TMP/run.err" || { cat "$TMP/run.err"; fail "the run failed"; }
kill "$FAKE_PID" && wait "$FAKE_PID" 2>/dev/null || true
LOG=$TMP/run/sim.tlog

# prompt AGENT STEP: the command's output in $TMP/p.out, its exit status in RC
prompt() {
    set +e
    "$COORD" log prompt "$LOG" --agent "$1" --step "$2" >"$TMP/p.out" 2>"$TMP/p.err"
    RC=$?
    set -e
}
purposes() { grep -E '^request [0-9]+ \(' "$TMP/p.out" | sed -E 's/^request [0-9]+ \(([a-z]+)\).*/\1/' | sort -u | tr '\n' ' '; }

prompt "Lisa Carter" 1
[[ $RC -eq 0 ]] || { cat "$TMP/p.out" "$TMP/p.err"; fail "step 1: exit $RC"; }
[[ "$(purposes)" == "consolidation embedding turn " ]] || fail "step 1 purposes: $(purposes)"
n=$(grep -c '^request ' "$TMP/p.out")
[[ $(grep -c ': digest matches$' "$TMP/p.out") -eq $n ]] || fail "a digest does not match"
assert_contains "$TMP/p.out" "Lisa Carter, step 1: $n request(s) rebuilt, $n recorded, 0 mismatched"
assert_contains "$TMP/p.out" '"schema_name": "agent_turn"'
assert_contains "$TMP/p.out" 'ToolShare is an app that lets neighbours lend and borrow tools'
pass "step 1: turn, consolidation and embedding rebuilt, every digest matches"

# step 3 asks Lisa what the moderator said: memory retrieved (an embedding of
# the query) from the memories of steps 1-2, rebuilt from the log
prompt "Lisa Carter" 3
[[ $RC -eq 0 ]] || { cat "$TMP/p.out" "$TMP/p.err"; fail "step 3: exit $RC"; }
assert_contains "$TMP/p.out" "do you remember what the moderator said"
! grep -q 'MISMATCH' "$TMP/p.out" || fail "step 3: a mismatch"
for agent in "Oscar Ramos" "Marcos Oliveira" "Amara Okafor"; do
    for step in 2 4; do
        prompt "$agent" "$step"
        [[ $RC -eq 0 ]] || { cat "$TMP/p.err"; fail "$agent step $step: exit $RC"; }
    done
done
pass "later steps of every agent rebuilt from memory made from the log, digests match"

cat "$TMP"/p.out "$TMP"/run/*.json 2>/dev/null | grep -q sk-it-secret-4711 && fail "the API key leaked"

# bad input: exit 2 with file:line:col, a step the agent has no part in: exit 1
prompt "Nobody Here" 1
[[ $RC -eq 2 ]] || fail "unknown agent: exit $RC"
assert_contains "$TMP/p.err" "$LOG:1:1: no agent named \"Nobody Here\""
prompt "Lisa Carter" x
[[ $RC -eq 2 ]] || fail "bad step: exit $RC"
prompt "Lisa Carter" 9
[[ $RC -eq 1 ]] || fail "a step beyond the run: exit $RC"
assert_contains "$TMP/p.err" "made no model call in step 9"
printf 'not a log' >"$TMP/bad.tlog"
set +e
"$COORD" log prompt "$TMP/bad.tlog" --agent x --step 1 2>"$TMP/p.err"
RC=$?
set -e
[[ $RC -eq 2 ]] || fail "not a log: exit $RC"
assert_contains "$TMP/p.err" "$TMP/bad.tlog:1:1:"
pass "bad input is exit 2 with file:line:col; a step beyond the run is exit 1"
