#!/usr/bin/env bash
# The transaction log brings a run back: SIGKILL the coordinator mid-run and
# --resume gives the uninterrupted run's final hash and transcript; an agent
# whose memory directory is lost is rebuilt from the log alone; no step is
# committed twice; SIGUSR1 records a checkpoint.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json
STEPS=300
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --quiet
ref=$(stats "$TMP/ref/sim.tlog" final_hash)

run_killed() { # run_killed DIR STEP: start a run and kill -9 the coordinator once STEP committed
    "$COORD" run "$SC" --out "$1" --steps $STEPS --quiet 2>/dev/null &
    local pid=$!
    wait_for_step "$1/sim.tlog" "$2"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

for at in 1 100 200; do
    d=$TMP/kill-$at
    run_killed "$d" "$at"
    done_steps=$(stats "$d/sim.tlog" steps)
    [[ $(stats "$d/sim.tlog" complete) == False ]] || fail "the run finished before the kill at step $at"
    "$COORD" run "$SC" --out "$d" --steps $STEPS --resume --quiet
    [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "resume after kill at step $done_steps: different final hash"
    [[ $(stats "$d/sim.tlog" steps) -eq $STEPS ]] || fail "resume: step count"
    "$COORD" log diff "$TMP/ref/sim.tlog" "$d/sim.tlog" >/dev/null || fail "log diff after resume"
    cmp -s "$TMP/ref/transcript.txt" "$d/transcript.txt" || fail "transcript differs after resume"
    echo "resumed after step $done_steps: identical"
done

# lost agent memory is rebuilt from the log
d=$TMP/lost
run_killed "$d" 150
rm -rf "$d/agents/Lisa Carter" "$d/agents/Amara Okafor"
"$COORD" run "$SC" --out "$d" --steps $STEPS --resume --quiet
[[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "rebuild from the log: different final hash"
[[ -d "$d/agents/Lisa Carter" ]] || fail "lost memory not rebuilt"

# SIGUSR1 asks for a checkpoint: a named record after the step in progress, and
# the run goes on to the end
d=$TMP/usr1
"$COORD" run "$SC" --out "$d" --steps $STEPS --quiet 2>/dev/null &
pid=$!
wait_for_step "$d/sim.tlog" 100
kill -USR1 "$pid"
wait "$pid" || fail "the run did not survive SIGUSR1"
[[ $(stats "$d/sim.tlog" complete) == True ]] || fail "the run stopped after SIGUSR1"
[[ $(stats "$d/sim.tlog" checkpoints) -eq 1 ]] || fail "SIGUSR1 wrote no checkpoint"
"$COORD" log dump "$d/sim.tlog" | grep '"kind":"checkpoint"' | grep -q SIGUSR1 || fail "checkpoint not named"
"$COORD" log verify "$d/sim.tlog" >/dev/null || fail "the log with a checkpoint does not verify"

# resuming a finished run changes nothing
before=$(sha256sum < "$TMP/ref/sim.tlog")
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --resume --quiet 2>/dev/null
[[ "$(sha256sum < "$TMP/ref/sim.tlog")" == "$before" ]] || fail "resuming a complete run changed its log"
pass "resume and rebuild reproduce the uninterrupted run"
