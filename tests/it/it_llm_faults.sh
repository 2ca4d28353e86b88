#!/usr/bin/env bash
# Flaky LLM APIs: against fakellm with --fault-rate 0.3 (429 with Retry-After,
# 500/503, connection resets, stalls past the client timeout, truncated and
# schema-invalid JSON) the demo completes with the same transcript and the same
# final hash as against a fault-free fakellm; faults are counted in the log's
# telemetry (attempts), not in what agents did.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json
printf '[OpenAI]\nTIMEOUT=2\nWAITING_TIME=0.05\nMAX_ATTEMPTS=10\n' > "$TMP/config.ini"
start_fakellm
OPENAI_BASE_URL=$FAKE_URL/v1 "$COORD" run "$SC" --out "$TMP/clean" --llm openai --quiet --config "$TMP/config.ini"
kill "$FAKE_PID"
start_fakellm --fault-rate 0.3 --seed 11
OPENAI_BASE_URL=$FAKE_URL/v1 "$COORD" run "$SC" --out "$TMP/faulty" --llm openai --quiet --config "$TMP/config.ini"
faults=$(fake_stat faults_total)
[[ $faults -ge 5 ]] || fail "only $faults faults injected"
cmp -s "$TMP/clean/transcript.txt" "$TMP/faulty/transcript.txt" || fail "transcripts differ"
[[ $(stats "$TMP/clean/sim.tlog" final_hash) == $(stats "$TMP/faulty/sim.tlog" final_hash) ]] || fail "final hashes differ"
"$COORD" log dump "$TMP/faulty/sim.tlog" | python3 -c "
import json, sys
retried = sum(1 for l in sys.stdin for r in [json.loads(l)] if r.get('telemetry')
              for a in r['telemetry'].get('agents', []) for x in a.get('exchanges', []) if x.get('attempts', 1) > 1)
assert retried > 0, 'no retried call recorded in telemetry'
print(f'{retried} calls needed more than one attempt')"
pass "fault rate 0.3: $faults faults injected, same transcript and final hash"
