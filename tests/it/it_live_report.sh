#!/usr/bin/env bash
# `coordinator run --serve-report PORT`: the report of the run in progress, on
# loopback, rebuilt from the log as steps commit (a slow model keeps the run
# going long enough to see it grow); only GET / (and a turn's prompts, GET
# /prompt) is served, and nothing is
# left listening once the run ends.
source "$(dirname "$0")/lib.sh"
start_fakellm --latency-ms 150
export OPENAI_BASE_URL=$FAKE_URL/v1 OPENAI_API_KEY=test-key
"$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$TMP/run" --steps 30 --quiet \
    --no-progress --llm openai --serve-report 0 >/dev/null 2>"$TMP/run.err" &
RUN=$!
PIDS+=("$RUN")
deadline=$((SECONDS + 60))
until URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$TMP/run.err" 2>/dev/null); do
    [[ $SECONDS -lt $deadline ]] || fail "no live report URL: $(cat "$TMP/run.err")"
    sleep 0.05
done
# steps_in_page: the committed steps the page shows now (0 before the first)
steps_in_page() {
    curl -s --max-time 30 "$URL" -o "$TMP/page.html" -D "$TMP/headers" || return 1
    grep -qi '^Refresh: ' "$TMP/headers" || fail "the live page does not ask to be refreshed"
    grep -o '"steps":[0-9]*' "$TMP/page.html" | head -1 | cut -d: -f2
}
first=""
deadline=$((SECONDS + 120))
while [[ -z "$first" || "$first" == 0 ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "the live page never showed a committed step"
    first=$(steps_in_page || true)
    sleep 0.1
done
later=$first
while [[ $later -le $first ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "the live page stayed at step $first"
    kill -0 "$RUN" 2>/dev/null || fail "the run ended before the page was seen to change"
    sleep 0.2
    later=$(steps_in_page || echo "$first")
done
pass "the live page followed the run from step $first to step $later"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")
[[ $code == 405 ]] || fail "POST got HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}secrets")
[[ $code == 404 ]] || fail "another path got HTTP $code"
# a turn's prompts on demand: the page links them, the server rebuilds them
assert_contains "$TMP/page.html" "prompt?agent="
code=$(curl -s --max-time 120 -o "$TMP/live-prompt" -w '%{http_code}' \
    "${URL}prompt?agent=Lisa%20Carter&step=1")
[[ $code == 200 ]] || fail "prompt of Lisa Carter, step 1: HTTP $code ($(cat "$TMP/live-prompt"))"
code=$(curl -s -o "$TMP/bad-prompt" -w '%{http_code}' "${URL}prompt?agent=Nobody&step=1")
[[ $code == 400 ]] || fail "prompt of an unknown agent: HTTP $code"
wait "$RUN" || fail "the run exited $?"
"$COORD" log prompt "$TMP/run/sim.tlog" --agent "Lisa Carter" --step 1 > "$TMP/cli-prompt"
[[ -s $TMP/cli-prompt ]] || fail "log prompt printed nothing"
cmp -s "$TMP/live-prompt" "$TMP/cli-prompt" || fail "the live report's prompts differ from log prompt's"
pass "a turn's prompts on demand, the same as log prompt prints; an unknown agent is a 400"
if curl -s --max-time 5 -o /dev/null "$URL"; then fail "the live report still answers after the run"; fi
[[ ! -e "$TMP/run/.live-report.html" ]] || fail "the live page's file was left behind"
pass "only GET / and /prompt are served, and nothing after the run"
