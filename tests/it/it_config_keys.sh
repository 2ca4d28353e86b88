#!/usr/bin/env bash
# TinyTroupe config.ini keys with an effect on how agents act, seen from the
# model's side (fakellm's max_in_flight, with a latency long enough for calls to
# overlap): PARALLEL_AGENT_ACTIONS=False makes agents act one at a time;
# MAX_CONCURRENT_MODEL_CALLS=NONE (or 0) is no limit; =1 is one call at a time.
# The log is the same whatever the concurrency (parallel mode is deterministic).
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json # four agents
run_with() { # run_with NAME INI-TEXT -> IN_FLIGHT: fakellm's max_in_flight
    printf "$2" > "$TMP/$1.ini"
    start_fakellm --latency-ms 150
    OPENAI_BASE_URL=$FAKE_URL/v1 "$COORD" run "$SC" --out "$TMP/$1" --llm openai --quiet \
        --steps 2 --config "$TMP/$1.ini" || fail "$1: run exited $?"
    IN_FLIGHT=$(fake_stat max_in_flight)
    kill "$FAKE_PID"
    wait "$FAKE_PID" 2>/dev/null || true # it writes its stats on exit
}
run_with none '[OpenAI]\nMAX_CONCURRENT_MODEL_CALLS=NONE\n'
unlimited=$IN_FLIGHT
[[ $unlimited -ge 4 ]] || fail "MAX_CONCURRENT_MODEL_CALLS=NONE: at most $unlimited calls in flight, want 4"
run_with zero '[OpenAI]\nMAX_CONCURRENT_MODEL_CALLS=0\n'
zero=$IN_FLIGHT
[[ $zero -ge 4 ]] || fail "MAX_CONCURRENT_MODEL_CALLS=0: at most $zero calls in flight, want 4"
run_with one '[OpenAI]\nMAX_CONCURRENT_MODEL_CALLS=1\n'
one=$IN_FLIGHT
[[ $one -eq 1 ]] || fail "MAX_CONCURRENT_MODEL_CALLS=1: $one calls in flight"
run_with serial '[OpenAI]\nMAX_CONCURRENT_MODEL_CALLS=NONE\n[Simulation]\nPARALLEL_AGENT_ACTIONS=False\n'
serial=$IN_FLIGHT
[[ $serial -eq 1 ]] || fail "PARALLEL_AGENT_ACTIONS=False: $serial calls in flight"
[[ $(stats "$TMP/none/sim.tlog" final_hash) == $(stats "$TMP/serial/sim.tlog" final_hash) ]] ||
    fail "one at a time changed the log"
pass "MAX_CONCURRENT_MODEL_CALLS=NONE/0: $unlimited in flight; =1 and PARALLEL_AGENT_ACTIONS=False: 1"
