#!/usr/bin/env bash
# A rogue peer floods the coordinator's port with random, oversize, truncated
# and impostor messages while a run is going on: the coordinator neither
# crashes nor stalls, and the well-behaved agents finish with the run's
# undisturbed final hash. Then well-formed hostile agentds (rogue's squat,
# rehello and hog modes): in local mode a stranger gets no agent, even when
# one is free; in external mode a peer that takes agents and never serves them
# loses them after a deadline, a second hello on one connection does not
# orphan agents, and hellos asking for a million slots cannot bloat the
# coordinator.
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_line FILE TEXT [TIMEOUT_S]
wait_line() {
    local deadline=$((SECONDS + ${3:-20}))
    while [[ $SECONDS -lt $deadline ]]; do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.02
    done
    fail "$1: no \"$2\" after ${3:-20} s"
}
printf '[Troupe]\nHEARTBEAT_MS=100\nLIVENESS_MS=500\n' > "$TMP/fast.ini"

# Local mode: the squatter registers before any agentd dies, so it has free
# slots when an agent needs a new home; it must get none of them.
d=$TMP/local-squat
port=$(free_port)
timeout 120 "$COORD" run "$SC" --out "$d" --steps $STEPS --quiet --config "$TMP/fast.ini" \
    --listen "tcp://127.0.0.1:$port" 2>"$d.err" &
coord=$!
"$ROGUE" "tcp://127.0.0.1:$port" 600 1 squat > "$d.rogue" &
rogue=$!
PIDS+=("$rogue")
wait_for_step "$d/sim.tlog" 20
victim=$(pick_agentd "$d") || fail "no agentd of the local run found"
kill -9 "$victim"
wait "$coord" || { tail "$d.err"; fail "local run with a squatter failed"; }
kill "$rogue" 2>/dev/null || true
wait "$rogue" 2>/dev/null || true # SIGTERM: it prints what it got
[[ $(cat "$d.rogue") == "assigned 0" ]] || fail "a stranger got agents of a local run: $(cat "$d.rogue")"
grep -q "refused a hello (not an agentd this coordinator started" "$d.err" || fail "the squatter's hello was not refused"
[[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "local run with a squatter: final hash differs"
echo "local mode: a stranger's hello refused, no agent given, same hash"

# External mode: the squatter registers first and takes every agent; a real
# agentd comes later. A deadline on ASSIGNING frees them (squat); a second
# hello as a new instance gives them back instead of orphaning them (rehello).
for mode in squat rehello; do
    d=$TMP/ext-$mode
    port=$(free_port)
    TROUPE_LOG_LEVEL=info timeout 120 "$COORD" run "$SC" --out "$d" --steps $STEPS --quiet --config "$TMP/fast.ini" \
        --listen "tcp://127.0.0.1:$port" --external 2>"$d.err" &
    coord=$!
    "$ROGUE" "tcp://127.0.0.1:$port" 600 1 $mode > "$d.rogue" &
    rogue=$!
    PIDS+=("$rogue")
    wait_line "$d.rogue" assigned
    "$AGENTD" --connect "tcp://127.0.0.1:$port" --slots 4 --data-dir "$d-a" 2>/dev/null &
    PIDS+=("$!")
    wait "$coord" || { tail "$d.err"; fail "$mode: the run failed"; }
    kill "$rogue" 2>/dev/null || true
    grep -q "is dead (no progress assigning" "$d.err" || fail "$mode: the squatter kept its agents"
    [[ $mode != rehello ]] || grep -q "said hello again as a new instance" "$d.err" || fail "rehello not seen"
    [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "$mode: final hash differs"
    echo "external $mode: agents taken back from the squatter, same hash"
done

# 2,000 connections, each a hello with slots=1000000 (7.7 GB of slot tables,
# unbounded; now most are refused at the connection cap, coord_gate.c)
d=$TMP/ext-hog
port=$(free_port)
"$COORD" run "$SC" --out "$d" --steps 100000 --quiet --listen "tcp://127.0.0.1:$port" --external 2>"$d.err" &
coord=$!
"$AGENTD" --connect "tcp://127.0.0.1:$port" --slots 4 --data-dir "$d-a" 2>/dev/null &
PIDS+=("$!")
wait_for_step "$d/sim.tlog" 5
"$ROGUE" "tcp://127.0.0.1:$port" 60 1 hog > "$d.rogue" || fail "hog rogue"
kill -0 "$coord" || fail "the coordinator died under 2,000 hellos"
peak=$(awk '/^VmPeak/ {print $2}' "/proc/$coord/status")
kill -INT "$coord"
wait "$coord" || true
[[ $peak -lt 1048576 ]] || fail "coordinator VmPeak ${peak} kB after 2,000 hellos of 1000000 slots"
echo "2,000 hellos with slots=1000000: VmPeak ${peak} kB"
pass "chaos: a rogue peer cannot crash or derail a run"
