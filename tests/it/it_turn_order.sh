#!/usr/bin/env bash
# A slot agentd starts the turns of a step most urgent first (more model calls
# expected in a row, then a fuller episode), and in slot order otherwise; the
# order never changes what is recorded:
#   - 6 agents in one agentd of 6 slots: step 1 (the same broadcast for all)
#     starts in slot order; in step 2 the last slot's agent is told four things
#     more, so its episode closes in that turn (a consolidation call follows
#     the turn's, as the log shows): its turn starts first;
#   - the same run in one agentd per agent has the same final hash.
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

"$COORD" run "$TMP/order.json" --out "$TMP/slots" --slots 6 --quiet --log-level debug \
    2>"$TMP/slots.err" ||
    fail "the run in one agentd of 6 slots failed: $(tail -5 "$TMP/slots.err")"

# starts STEP -> the names in the order their turns of STEP started
starts() {
    python3 - "$TMP/slots.err" "$1" <<'EOF'
import re, sys
step = sys.argv[2]
for line in open(sys.argv[1]):
    m = re.search(r"agentd: slot \d+: (.+) starts step (\d+)$", line.rstrip("\n"))
    if m and m.group(2) == step:
        print(m.group(1))
EOF
}
slot_order=$(python3 - "$TMP/slots.err" <<'EOF'
import re, sys
slots = {}
for line in open(sys.argv[1]):
    m = re.search(r"agentd: slot (\d+): (.+) \(incarnation \d+\)", line)
    if m:
        slots[int(m.group(1))] = m.group(2)
print("\n".join(slots[k] for k in sorted(slots)))
EOF
)
[[ $(wc -l <<<"$slot_order") -eq 6 ]] || fail "expected 6 assigned slots, got: $slot_order"
[[ $(tail -1 <<<"$slot_order") == "Oscar Ramos 3" ]] ||
    fail "expected Oscar Ramos 3 in the last slot: $slot_order"

[[ $(starts 1) == "$slot_order" ]] ||
    fail "step 1 (the same for every agent) did not start in slot order: $(starts 1 | tr '\n' ',')"
pass "step 1: turns start in slot order"

step2=$(starts 2)
[[ $(wc -l <<<"$step2") -eq 6 ]] || fail "expected 6 turns in step 2: $step2"
[[ $(head -1 <<<"$step2") == "Oscar Ramos 3" ]] ||
    fail "step 2: the turn about to close its episode did not start first: $(tr '\n' ',' <<<"$step2")"
purposes=$("$COORD" log dump "$TMP/slots/sim.tlog" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["kind"] == "step" and r["body"]["step"]["step"] == 2:
        for a in r["body"]["step"]["agents"]:
            if a.get("agent", 0) == 5:
                print(" ".join(x["purpose"] for x in a.get("exchanges", [])))')
[[ $purposes == "turn consolidation" ]] ||
    fail "step 2 of Oscar Ramos 3 was expected to consolidate; its calls: $purposes"
pass "step 2: the last slot's turn, which closes its episode, starts first"

"$COORD" run "$TMP/order.json" --out "$TMP/single" --slots 1 --quiet ||
    fail "the run in one agentd per agent failed"
[[ $(stats "$TMP/slots/sim.tlog" final_hash) == $(stats "$TMP/single/sim.tlog" final_hash) ]] ||
    fail "the order of the turns changed the log: the final hashes differ"
pass "the same final hash in one agentd per agent"
