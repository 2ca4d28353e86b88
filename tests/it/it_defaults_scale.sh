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

# 300 agentds of one slot: started a few a core at a time as the earlier ones
# register (all at once, a loader storm starved the registered ones of the CPU
# their heartbeats need, and they were declared dead by the dozen). While they
# start, the agentds alive never outnumber the registered ones by more than
# CAP a core: counted processes first, registrations after (they only grow).
# Forked by the fork server, CAP is 32; exec'd (TROUPE_AGENTD), 8.
# one_slot_run DIR CAP [ENV...]: sets MOST
one_slot_run() {
    local dir=$1 cap=$2
    shift 2
    env TROUPE_LOG_LEVEL=info "$@" "$COORD" run "$TMP/crowd300.json" --out "$dir" --quiet \
        --slots 1 2>"$dir.err" &
    local coord=$! alive registered deadline=$((SECONDS + 300))
    MOST=0
    while kill -0 "$coord" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
        alive=$(pgrep -fc -- "--data-dir $dir " || true)
        registered=$(grep -c "coordinator peers: agentd on .* registered with" "$dir.err" || true)
        [[ $registered -ge 300 ]] && break
        ((alive - registered > MOST)) && MOST=$((alive - registered))
        sleep 0.05
    done
    wait "$coord" || fail "300 one-slot agentds: exit $? ($(tail -2 "$dir.err"))"
    [[ $MOST -le $((cap * cores)) ]] || fail "$MOST agentds were starting at once ($cores cores)"
    ! grep -q "is dead" "$dir.err" || fail "agentds died while 300 started: $(grep -m2 'is dead' "$dir.err")"
    [[ $(stats "$dir/sim.tlog" final_hash) == $(stats "$TMP/auto/sim.tlog" final_hash) ]] ||
        fail "300 one-slot agentds and slot agentds differ"
}
one_slot_run "$TMP/many" 32
most=$MOST
one_slot_run "$TMP/exec" 8 TROUPE_AGENTD="$AGENTD"
most_exec=$MOST

crowd 120
rc=0
(ulimit -n 100 && exec "$COORD" run "$TMP/crowd120.json" --out "$TMP/fd" --quiet --slots 1) \
    2>"$TMP/fd.err" || rc=$?
[[ $rc -ne 0 ]] || fail "120 agentds under ulimit -n 100: exit 0"
assert_contains "$TMP/fd.err" "ulimit -n"
pass "300 agents in $procs slot agentds by default; 300 one-slot agentds start at most $most beyond the registered ($most_exec exec'd), without a death; ulimit -n named when descriptors run short"
