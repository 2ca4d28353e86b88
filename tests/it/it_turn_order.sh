#!/usr/bin/env bash
# A slot agentd starts the turns of a step with the longest expected chain of
# model calls first, in slot order otherwise; the order never changes what is
# recorded. 6 agents in one agentd of 6 slots:
#   - against fakellm, step 1 (the same broadcast for all) starts in slot
#     order; in step 2 the last slot's agent is told four things more, so its
#     episode closes in that turn (a consolidation and an embedding follow the
#     turn's call, as the log shows): its turn starts first;
#   - with the offline model, which answers at once, every step starts in slot
#     order (a shared store's pages in the order they are stored);
#   - both runs have the final hash of the same run in one agentd per agent.
# The order is read from the agentds' debug lines ("slot N: NAME starts step S").
source "$(dirname "$0")/lib.sh"

cat >"$TMP/order.json" <<EOF
{"name": "turn order", "seed": 7, "steps": 3, "world": {"step": "PT10M"},
 "agents": [{"file": "$SRC/examples/agents/lisa_carter.agent.json", "count": 3},
            {"file": "$SRC/examples/agents/oscar_ramos.agent.json", "count": 3}],
 "events": [{"step": 1, "source": "Host", "broadcast": "A new bus line: would you use it?"},
            {"step": 2, "source": "Host", "to": "Oscar Ramos 3", "stimulus": "CONVERSATION",
             "content": "Tell me about the trains here."},
            {"step": 2, "source": "Host", "to": "Oscar Ramos 3", "stimulus": "CONVERSATION",
             "content": "And about the buses."},
            {"step": 2, "source": "Host", "to": "Oscar Ramos 3", "stimulus": "CONVERSATION",
             "content": "The trams are new."},
            {"step": 2, "source": "Host", "to": "Oscar Ramos 3", "stimulus": "CONVERSATION",
             "content": "The ferry is old."}]}
EOF

# starts ERR STEP -> the names in the order their turns of STEP started
starts() {
    python3 - "$1" "$2" <<'EOF'
import re, sys
for line in open(sys.argv[1]):
    m = re.search(r"agentd: slot \d+: (.+) starts step (\d+)$", line.rstrip("\n"))
    if m and m.group(2) == sys.argv[2]:
        print(m.group(1))
EOF
}
# slot_order ERR -> the names in slot order
slot_order() {
    python3 - "$1" <<'EOF'
import re, sys
slots = {}
for line in open(sys.argv[1]):
    m = re.search(r"agentd: slot (\d+): (.+) \(incarnation \d+\)", line)
    if m:
        slots[int(m.group(1))] = m.group(2)
print("\n".join(slots[k] for k in sorted(slots)))
EOF
}
hash_of() { stats "$1/sim.tlog" final_hash; }

start_fakellm --latency-ms 20
export OPENAI_BASE_URL=$FAKE_URL/v1
"$COORD" run "$TMP/order.json" --out "$TMP/http" --llm openai --slots 6 --quiet \
    --log-level debug 2>"$TMP/http.err" ||
    fail "the run in one agentd of 6 slots failed: $(tail -5 "$TMP/http.err")"
order=$(slot_order "$TMP/http.err")
[[ $(wc -l <<<"$order") -eq 6 && $(tail -1 <<<"$order") == "Oscar Ramos 3" ]] ||
    fail "expected 6 slots, Oscar Ramos 3 in the last: $order"
[[ $(starts "$TMP/http.err" 1) == "$order" ]] ||
    fail "step 1 (the same for every agent) did not start in slot order: $(starts "$TMP/http.err" 1 | tr '\n' ,)"
pass "step 1: turns start in slot order"

calls=$("$COORD" log dump "$TMP/http/sim.tlog" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["kind"] == "step" and r["body"]["step"]["step"] == 2:
        for a in r["body"]["step"]["agents"]:
            if a.get("agent", 0) == 5:
                print(" ".join(x["purpose"] for x in a.get("exchanges", [])))')
[[ $calls == "turn consolidation embedding" ]] ||
    fail "step 2 of Oscar Ramos 3 was expected to chain three calls; its calls: $calls"
step2=$(starts "$TMP/http.err" 2)
[[ $(wc -l <<<"$step2") -eq 6 && $(head -1 <<<"$step2") == "Oscar Ramos 3" ]] ||
    fail "step 2: the turn with the longest chain did not start first: $(tr '\n' , <<<"$step2")"
pass "step 2: the last slot's turn, which chains three calls, starts first"

"$COORD" run "$TMP/order.json" --out "$TMP/http-single" --llm openai --slots 1 --quiet ||
    fail "the run in one agentd per agent failed"
[[ $(hash_of "$TMP/http") == $(hash_of "$TMP/http-single") ]] ||
    fail "the order of the turns changed the log: the final hashes differ"
pass "the same final hash in one agentd per agent"

unset OPENAI_BASE_URL
"$COORD" run "$TMP/order.json" --out "$TMP/offline" --slots 6 --quiet --log-level debug \
    2>"$TMP/offline.err" || fail "the offline run failed: $(tail -5 "$TMP/offline.err")"
order=$(slot_order "$TMP/offline.err")
for step in 1 2 3; do
    [[ $(starts "$TMP/offline.err" $step) == "$order" ]] ||
        fail "offline step $step did not start in slot order: $(starts "$TMP/offline.err" $step | tr '\n' ,)"
done
"$COORD" run "$TMP/order.json" --out "$TMP/offline-single" --slots 1 --quiet 2>/dev/null ||
    fail "the offline run in one agentd per agent failed"
[[ $(hash_of "$TMP/offline") == $(hash_of "$TMP/offline-single") ]] ||
    fail "offline: the final hashes differ between slots and one agentd per agent"
pass "offline: every step in slot order, the same final hash in one agentd per agent"
