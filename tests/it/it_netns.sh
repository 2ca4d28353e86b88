#!/usr/bin/env bash
# Across machines, emulated: four network namespaces joined by veth pairs to a
# bridge are four hosts. The coordinator runs in one and listens on its own
# address with CURVE; agentds with --slots run in the other three. The run has a
# local run's final hash; an agentd hosting slots killed with -9 mid-run has its
# agents placed on the others and rebuilt from the log, with the same hash; a
# plaintext agentd never gets in; the listener is only on the host's address.
source "$(dirname "$0")/lib.sh"
if [[ $(id -u) -ne 0 ]] || ! ip netns add "tt-probe-$$" 2>/dev/null; then
    echo "SKIP: cannot create network namespaces here (needs root and netns support)"
    exit 0
fi
ip netns del "tt-probe-$$"
P=tt$$                      # a prefix for everything this test creates
NET=10.77.$(( $$ % 200 ))
cleanup_ns() { # cleanup_ns [PREFIX]
    local p=${1:-$P}
    for n in br h1 h2 h3 h4; do ip netns pids "$p$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true; done
    for n in br h1 h2 h3 h4; do ip netns del "$p$n" 2>/dev/null || true; done
}
# what an earlier run killed before its trap could run left behind
for old in $(ip netns list | grep -oE '^tt[0-9]+br' || true); do
    pid=${old#tt}; pid=${pid%br}
    kill -0 "$pid" 2>/dev/null || cleanup_ns "tt$pid"
done
trap 'cleanup_ns; cleanup' EXIT
ip netns add "${P}br"
ip -n "${P}br" link add br0 type bridge
ip -n "${P}br" link set br0 up
for i in 1 2 3 4; do
    ip netns add "${P}h$i"
    ip link add "${P}v$i" netns "${P}br" type veth peer name eth0 netns "${P}h$i"
    ip -n "${P}br" link set "${P}v$i" master br0 up
    ip -n "${P}h$i" addr add "$NET.$i/24" dev eth0
    ip -n "${P}h$i" link set eth0 up
    ip -n "${P}h$i" link set lo up
done
# wait_listen NS ADDR:PORT [TIMEOUT_S]: until something in NS listens there
wait_listen() {
    local deadline=$((SECONDS + ${3:-120}))
    while [[ $SECONDS -lt $deadline ]]; do
        ip netns exec "$1" ss -ltnH src "$2" 2>/dev/null | grep -q . && return 0
        sleep 0.02
    done
    fail "nothing listens on $2 in $1 after ${3:-120} s"
}
# can host 2 reach host 1? (a plain TCP connection: ping may not be installed)
ip netns exec "${P}h1" python3 -c "import socket; s = socket.create_server(('$NET.1', 5554)); s.settimeout(120); s.accept()" &
wait_listen "${P}h1" "$NET.1:5554"
ip netns exec "${P}h2" timeout 60 bash -c "exec 3<>/dev/tcp/$NET.1/5554" || fail "hosts cannot reach each other"
wait

SC=$SRC/examples/scenarios/focus_group.json
STEPS=400
"$COORD" run "$SC" --out "$TMP/local" --steps $STEPS --quiet
"$COORD" keygen "$TMP/keys" --clients 3 >/dev/null
ENDPOINT=tcp://$NET.1:5555

run_cluster() { # run_cluster OUT [KILL_AT_STEP]
    local out=$1 kill_after=${2:-}
    ip netns exec "${P}h1" "$COORD" run "$SC" --out "$out" --steps $STEPS --quiet \
        --listen "$ENDPOINT" --external --keys "$TMP/keys" 2>"$out.err" &
    local coord=$!
    wait_listen "${P}h1" "${ENDPOINT#tcp://}"
    ip netns exec "${P}h1" ss -ltn > "$out.ss"
    for i in 2 3 4; do
        ip netns exec "${P}h$i" "$AGENTD" --connect "$ENDPOINT" --slots 2 --data-dir "$out-h$i" \
            --server-key "$TMP/keys/server.cert" --cert "$TMP/keys/agents/agent-$((i - 1)).cert" \
            2>"$out-h$i.err" &
    done
    # a plaintext agentd must never get a slot
    ip netns exec "${P}h4" "$AGENTD" --connect "$ENDPOINT" --slots 4 --data-dir "$out-rogue" 2>/dev/null &
    local rogue=$!
    if [[ -n "$kill_after" ]]; then
        wait_for_step "$out/sim.tlog" "$kill_after"
        local victim
        victim=$(ip netns pids "${P}h3" | head -1)
        [[ -n "$victim" ]] && kill -9 "$victim"
    fi
    wait "$coord" || fail "coordinator in ${P}h1 exited $?"
    kill -9 "$rogue" 2>/dev/null || true
    [[ ! -e "$out-rogue/agents" ]] || fail "the plaintext agentd got agents"
}

run_cluster "$TMP/c1"
grep -q "$NET.1:5555" "$TMP/c1.ss" || fail "no listener on $NET.1:5555"
! grep -qE '0\.0\.0\.0:5555|\*:5555' "$TMP/c1.ss" || fail "listening on every interface"
[[ $(stats "$TMP/c1/sim.tlog" final_hash) == $(stats "$TMP/local/sim.tlog" final_hash) ]] \
    || fail "4 hosts over CURVE: final hash differs from the local run"
echo "4 hosts: same final hash as local"

run_cluster "$TMP/c2" 100
grep -q "is dead" "$TMP/c2.err" || fail "the killed agentd was not noticed"
[[ $(stats "$TMP/c2/sim.tlog" final_hash) == $(stats "$TMP/local/sim.tlog" final_hash) ]] \
    || fail "after losing a host: final hash differs"
echo "host killed mid-run: agents moved, same final hash"
pass "network namespaces: CURVE across 4 hosts, failover, loopback-free listener"
