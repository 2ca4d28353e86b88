#!/usr/bin/env bash
# kill -9 a random agentd at a random step while model calls are in flight
# (fakellm answers after 10 ms): the run completes with the fault-free final
# hash and commits every step exactly once.
source "$TT_SOURCE_DIR/tests/it/lib.sh"
source "$TT_SOURCE_DIR/tests/chaos/lib.sh"
start_fakellm --latency-ms 10
export OPENAI_BASE_URL=$FAKE_URL/v1
STEPS=80
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --llm openai --quiet
ref=$(stats "$TMP/ref/sim.tlog" final_hash)
for seed in $(seq "$SEEDS"); do
    RANDOM=$seed
    at=$((5 + RANDOM % 60))
    d=$TMP/run$seed
    "$COORD" run "$SC" --out "$d" --steps $STEPS --llm openai --quiet 2>"$d.err" &
    pid=$!
    wait_for_step "$d/sim.tlog" $at
    victim=$(pick_agentd "$d") || fail "seed $seed: no agentd to kill"
    kill -9 "$victim"
    wait "$pid" || { tail "$d.err"; fail "seed $seed: run failed"; }
    [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "seed $seed: final hash differs"
    assert_steps_once "$d/sim.tlog" >/dev/null
    echo "seed $seed: agentd killed at step ~$at: same final hash"
done
pass "chaos: $SEEDS agentd kills, all with the fault-free final hash"
