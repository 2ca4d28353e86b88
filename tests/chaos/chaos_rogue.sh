#!/usr/bin/env bash
# A rogue peer floods the coordinator's port with random, oversize, truncated
# and impostor messages while a run is going on: the coordinator neither
# crashes nor stalls, and the well-behaved agents finish with the run's
# undisturbed final hash.
source "$TT_SOURCE_DIR/tests/it/lib.sh"
source "$TT_SOURCE_DIR/tests/chaos/lib.sh"
STEPS=150
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --quiet
ref=$(stats "$TMP/ref/sim.tlog" final_hash)
for seed in $(seq "$SEEDS"); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    d=$TMP/run$seed
    "$COORD" run "$SC" --out "$d" --steps $STEPS --quiet --listen "tcp://127.0.0.1:$port" 2>"$d.err" &
    coord=$!
    "$ROGUE" "tcp://127.0.0.1:$port" 3 "$seed" > "$d.rogue" &
    rogue=$!
    PIDS+=("$rogue")
    wait "$coord" || { tail "$d.err"; fail "seed $seed: the run failed under the flood"; }
    wait "$rogue" || true
    [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "seed $seed: final hash differs"
    echo "seed $seed: $(cat "$d.rogue") rogue messages; run completed with the same hash"
done
pass "chaos: a rogue peer cannot crash or derail a run"
