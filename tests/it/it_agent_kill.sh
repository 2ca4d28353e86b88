#!/usr/bin/env bash
# An agentd killed with SIGKILL mid-run is replaced and its agent rebuilt from
# the log; the run completes with the fault-free run's final hash.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json
STEPS=500
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --quiet
ref=$(stats "$TMP/ref/sim.tlog" final_hash)
for round in 1 2 3; do
    d=$TMP/run$round
    "$COORD" run "$SC" --out "$d" --steps $STEPS --quiet 2>"$TMP/err$round" &
    pid=$!
    PIDS+=("$pid")
    wait_for_step "$d/sim.tlog" $((round * 100))
    victim=$(pgrep -f -- "--data-dir $d" | shuf -n 1 --random-source=<(yes $round) || true)
    [[ -n "$victim" ]] || fail "round $round: no agentd to kill (run too short?)"
    kill -9 $victim
    wait "$pid" || fail "run $round exited $?"
    [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "run $round: final hash differs"
    grep -q "is dead" "$TMP/err$round" || fail "round $round: the kill was not noticed"
    echo "round $round: agentd $victim killed and replaced"
done
pass "agentd kill -9: runs complete with the fault-free final hash"
