#!/usr/bin/env bash
# Defaults that scale: without --slots a population beyond a few hundred runs
# in slot agentds (a few per core), saying so; without a config nothing caps
# the agents acting at once; too few descriptors for one agentd per agent is
# refused up front, naming `ulimit -n`.
source "$(dirname "$0")/lib.sh"
crowd() {
    cat > "$TMP/crowd$1.json" <<JSON
{"name": "crowd", "world": {}, "steps": 2,
 "agents": [{"file": "$SRC/examples/agents/amara_okafor.agent.json", "count": $1}]}
JSON
}
crowd 300
"$COORD" run "$TMP/crowd300.json" --out "$TMP/auto" --quiet 2>"$TMP/auto.err" ||
    fail "300 agents with default options: exit $? ($(tail -2 "$TMP/auto.err"))"
assert_contains "$TMP/auto.err" "300 agents: "
cores=$(nproc)
procs=$(grep -o '[0-9]* agentds of' "$TMP/auto.err" | cut -d' ' -f1)
[[ $procs -le $((4 * cores)) ]] || fail "$procs agentds for 300 agents on $cores cores"
[[ $(stats "$TMP/auto/sim.tlog" failed_agent_steps) -eq 0 ]] || fail "failed agent steps"
# the same run in smaller agentds: the same log
"$COORD" run "$TMP/crowd300.json" --out "$TMP/one" --quiet --slots 10 2>"$TMP/one.err" || fail "--slots 10: exit $?"
[[ $(stats "$TMP/one/sim.tlog" final_hash) == $(stats "$TMP/auto/sim.tlog" final_hash) ]] ||
    fail "auto slots and --slots 10 differ"

crowd 120
rc=0
(ulimit -n 100 && exec "$COORD" run "$TMP/crowd120.json" --out "$TMP/fd" --quiet --slots 1) \
    2>"$TMP/fd.err" || rc=$?
[[ $rc -ne 0 ]] || fail "120 agentds under ulimit -n 100: exit 0"
assert_contains "$TMP/fd.err" "ulimit -n"
pass "300 agents in $procs slot agentds by default; ulimit -n named when descriptors run short"
