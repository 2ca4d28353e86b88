#!/usr/bin/env bash
# kill -9 the coordinator at a random step (alone, or together with an agentd),
# then --resume: the run completes with the fault-free final hash and commits
# every step exactly once.
source "$TT_SOURCE_DIR/tests/it/lib.sh"
source "$TT_SOURCE_DIR/tests/chaos/lib.sh"
start_fakellm --latency-ms 10
export OPENAI_BASE_URL=$FAKE_URL/v1
STEPS=80
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --llm openai --quiet
ref=$(stats "$TMP/ref/sim.tlog" final_hash)
for seed in $(seq "$SEEDS"); do
    for both in no yes; do
        RANDOM=$((seed * 7 + ${#both}))
        at=$((5 + RANDOM % 60))
        d=$TMP/run$seed-$both
        "$COORD" run "$SC" --out "$d" --steps $STEPS --llm openai --quiet 2>/dev/null &
        pid=$!
        wait_for_step "$d/sim.tlog" $at
        if [[ $both == yes ]]; then
            victim=$(pick_agentd "$d") || true
            kill -9 "$pid" ${victim:+"$victim"}
        else
            kill -9 "$pid"
        fi
        wait "$pid" 2>/dev/null || true
        "$COORD" run "$SC" --out "$d" --steps $STEPS --llm openai --resume --quiet \
            || fail "seed $seed ($both): resume failed"
        [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "seed $seed ($both): final hash differs"
        assert_steps_once "$d/sim.tlog" >/dev/null
        echo "seed $seed: coordinator killed (with an agentd: $both) at step ~$at: same final hash"
    done
done
pass "chaos: coordinator kills (alone and with an agentd) resume to the fault-free hash"
