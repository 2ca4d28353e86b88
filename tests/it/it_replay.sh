#!/usr/bin/env bash
# Replay through real HTTP: run the demo against fakellm, then again with
# --replay. fakellm sees zero new requests, `log stats` says llm_calls 0, the
# final hash and transcript are identical and `log diff` finds nothing. Then
# change one event: replay diverges exactly there, says so, and calls the model
# only from that point on.
source "$(dirname "$0")/lib.sh"
start_fakellm
export OPENAI_BASE_URL=$FAKE_URL/v1
SC=$SRC/examples/scenarios/focus_group.json
"$COORD" run "$SC" --out "$TMP/a" --llm openai --quiet
seen=$(fake_stat requests)
made=$((seen - 1)) # the first request is the model check before step 1, not in the log
[[ $made -gt 0 ]] || fail "the first run made no requests"
[[ $(stats "$TMP/a/sim.tlog" llm_calls) -eq $made ]] || fail "llm_calls != requests seen by fakellm - 1"

"$COORD" run "$SC" --out "$TMP/b" --llm openai --quiet --replay "$TMP/a/sim.tlog"
[[ $(fake_stat requests) -eq $seen ]] || fail "replay made $(( $(fake_stat requests) - seen )) requests"
[[ $(stats "$TMP/b/sim.tlog" llm_calls) -eq 0 ]] || fail "replay: llm_calls != 0"
[[ $(stats "$TMP/b/sim.tlog" llm_replayed) -eq $made ]] || fail "replay: llm_replayed"
[[ $(stats "$TMP/a/sim.tlog" final_hash) == $(stats "$TMP/b/sim.tlog" final_hash) ]] || fail "final hash differs"
cmp -s "$TMP/a/transcript.txt" "$TMP/b/transcript.txt" || fail "transcript differs"
"$COORD" log diff "$TMP/a/sim.tlog" "$TMP/b/sim.tlog" > "$TMP/diff" || { cat "$TMP/diff"; fail "log diff"; }
assert_contains "$TMP/diff" "identical"

# one event changed (step 3's question to Lisa): replay diverges at step 3
sed 's/the insurance and the price per day/the insurance and the deposit/' "$SC" > "$TMP/changed.json"
sed -i "s#\"\.\./agents/#\"$SRC/examples/agents/#g" "$TMP/changed.json"
before=$(fake_stat requests)
"$COORD" run "$TMP/changed.json" --out "$TMP/c" --llm openai --replay "$TMP/a/sim.tlog" \
    > /dev/null 2> "$TMP/c.err"
grep -q "replay diverged at step 3, agent Lisa Carter" "$TMP/c.err" || { cat "$TMP/c.err"; fail "divergence not reported"; }
new=$(( $(fake_stat requests) - before ))
[[ $new -gt 0 && $new -lt $made ]] || fail "after divergence expected some but fewer than $made requests, got $new"
set +e
"$COORD" log diff "$TMP/a/sim.tlog" "$TMP/c/sim.tlog" > "$TMP/diff2"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "log diff exit $rc, want 1"
cat "$TMP/diff2"
grep -q "step 3" "$TMP/diff2" || { cat "$TMP/diff2"; fail "log diff does not name step 3"; }
# SimBegin differs (scenario digest) but the first divergent StepCommit is 3
pass "replay: $made calls recorded and served with 0 requests; one changed event diverges at step 3 ($new new calls)"
