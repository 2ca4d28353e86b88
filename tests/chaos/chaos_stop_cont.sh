#!/usr/bin/env bash
# SIGSTOP the agentd hosting the agents past the liveness timeout, then SIGCONT
# it: it is declared dead, its agents move to another agentd and are rebuilt
# from the log, and when it wakes up its stale messages are ignored. Agentds are
# external here, so the coordinator cannot simply kill the stopped one.
source "$TT_SOURCE_DIR/tests/it/lib.sh"
source "$TT_SOURCE_DIR/tests/chaos/lib.sh"
start_fakellm --latency-ms 10
export OPENAI_BASE_URL=$FAKE_URL/v1
printf '[Troupe]\nHEARTBEAT_MS=100\nLIVENESS_MS=800\n' > "$TMP/config.ini"
STEPS=60
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --llm openai --quiet --config "$TMP/config.ini"
ref=$(stats "$TMP/ref/sim.tlog" final_hash)
for seed in $(seq "$SEEDS"); do
    RANDOM=$seed
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    d=$TMP/run$seed
    TROUPE_LOG_LEVEL=info "$COORD" run "$SC" --out "$d" --steps $STEPS --llm openai --quiet \
        --config "$TMP/config.ini" --listen "tcp://127.0.0.1:$port" --external 2>"$d.err" &
    coord=$!
    "$AGENTD" --connect "tcp://127.0.0.1:$port" --slots 4 --data-dir "$d-a" 2>/dev/null &
    a=$!
    sleep 0.3
    "$AGENTD" --connect "tcp://127.0.0.1:$port" --slots 4 --data-dir "$d-b" 2>/dev/null &
    b=$!
    PIDS+=("$a" "$b")
    wait_for_step "$d/sim.tlog" $((5 + RANDOM % 30))
    victim=$a # the first to register hosts the agents
    kill -STOP "$victim"
    sleep 1.6
    kill -CONT "$victim"
    wait "$coord" || { tail "$d.err"; fail "seed $seed: run failed"; }
    grep -q "is dead (silent)" "$d.err" || fail "seed $seed: the stopped agentd was not declared dead"
    grep -q "ignored a .* from a dead agentd" "$d.err" || fail "seed $seed: no stale message was seen"
    [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "seed $seed: final hash differs"
    assert_steps_once "$d/sim.tlog" >/dev/null
    echo "seed $seed: stopped past liveness, agents moved, stale messages ignored, same hash"
done
pass "chaos: SIGSTOP/SIGCONT"
