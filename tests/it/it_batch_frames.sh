#!/usr/bin/env bash
# A step's work travels one frame per agentd each way (StepBatch out,
# ActionsBatch back), and batching never changes what is recorded:
#   - 40 agents in four agentds of 10 slots: every step sends 4 frames out,
#     and, with answers held until their batch is done, gets 4 back;
#   - the same run with the default answer flush, and with one agentd per
#     agent (40 frames each way), has the same final hash;
#   - sequential mode dispatches one agent at a time (one frame each) and has
#     the same final hash in slot agentds as in one agentd per agent.
# The counts are results.json's per-step frames_out / frames_in.
source "$(dirname "$0")/lib.sh"

scenario() { # scenario FILE N MODE
    python3 - "$1" "$2" "$3" "$SRC" <<'EOF'
import json, sys
path, n, mode, src = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
names = ["lisa_carter", "oscar_ramos", "marcos_oliveira", "amara_okafor"]
agents = [{"file": f"{src}/examples/agents/{a}.agent.json", "count": n // 4} for a in names]
doc = {"name": f"batch frames {n}", "seed": 7, "steps": 3,
       "world": {"step": "PT10M", "mode": mode}, "agents": agents,
       "events": [{"step": 1, "source": "Host",
                   "broadcast": "A new bus line through the neighbourhood: would you use it?"}]}
json.dump(doc, open(path, "w"))
EOF
}

# frames DIR KEY -> the per-step values of KEY, space-separated
frames() {
    python3 -c "import json,sys; print(' '.join(str(s.get('$2')) for s in json.load(open('$1/results.json'))['steps']))"
}
hash_of() { stats "$1/sim.tlog" final_hash; }

scenario "$TMP/par.json" 40 parallel
scenario "$TMP/seq.json" 12 sequential

# four agentds, answers held until the batch is done: one frame each way per agentd
TROUPE_ANSWER_FLUSH_MS=600000 "$COORD" run "$TMP/par.json" --out "$TMP/held" --slots 10 \
    --max-concurrency 40 --quiet
[[ $(frames "$TMP/held" frames_out) == "4 4 4" ]] ||
    fail "frames out per step with 4 agentds: $(frames "$TMP/held" frames_out), expected 4 4 4"
[[ $(frames "$TMP/held" frames_in) == "4 4 4" ]] ||
    fail "frames in per step with answers held: $(frames "$TMP/held" frames_in), expected 4 4 4"
ref=$(hash_of "$TMP/held")
pass "40 agents in 4 agentds: 4 frames out and 4 in per step"

# the default flush (finished answers go every 200 ms): the same log, fewer frames than agents
"$COORD" run "$TMP/par.json" --out "$TMP/flush" --slots 10 --max-concurrency 40 --quiet
[[ $(hash_of "$TMP/flush") == "$ref" ]] || fail "the default answer flush changed the final hash"
[[ $(frames "$TMP/flush" frames_out) == "4 4 4" ]] || fail "frames out: $(frames "$TMP/flush" frames_out)"
for n in $(frames "$TMP/flush" frames_in); do
    [[ $n -ge 4 && $n -le 40 ]] || fail "frames in per step: $n, expected 4..40"
done
pass "default flush: same final hash, frames in per step $(frames "$TMP/flush" frames_in)"

# one agentd per agent: one frame per agent, and still the same log
"$COORD" run "$TMP/par.json" --out "$TMP/single" --slots 1 --max-concurrency 40 --quiet
[[ $(hash_of "$TMP/single") == "$ref" ]] || fail "one agentd per agent: different final hash"
[[ $(frames "$TMP/single" frames_out) == "40 40 40" ]] ||
    fail "frames out with one agentd per agent: $(frames "$TMP/single" frames_out)"
pass "one agentd per agent: same final hash, 40 frames out per step"

# a concurrency cap dispatches as agents answer: more frames, the same log
"$COORD" run "$TMP/par.json" --out "$TMP/capped" --slots 10 --max-concurrency 4 --quiet
[[ $(hash_of "$TMP/capped") == "$ref" ]] || fail "--max-concurrency 4: different final hash"
for n in $(frames "$TMP/capped" frames_out); do
    [[ $n -gt 4 ]] || fail "frames out with a cap of 4 in flight: $n, expected more than 4"
done
pass "--max-concurrency 4: same final hash"

# sequential mode: one agent acts at a time, so one frame per agent, whatever the slots
"$COORD" run "$TMP/seq.json" --out "$TMP/seq-slots" --slots 6 --quiet
"$COORD" run "$TMP/seq.json" --out "$TMP/seq-single" --slots 1 --quiet
[[ $(hash_of "$TMP/seq-slots") == $(hash_of "$TMP/seq-single") ]] ||
    fail "sequential mode: slot agentds and one agentd per agent differ"
[[ $(frames "$TMP/seq-slots" frames_out) == "12 12 12" ]] ||
    fail "sequential frames out: $(frames "$TMP/seq-slots" frames_out), expected 12 12 12"
pass "sequential mode: one frame per acting agent, same final hash in slots"
