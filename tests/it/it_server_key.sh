#!/usr/bin/env bash
# agentd --server-key takes a certificate file or the coordinator's Z85 key.
# A certificate path of exactly 40 characters (a Z85 key's length) is still a
# file: taken for a key it made every CURVE handshake fail in silence (it_slurm's
# per-job keys under /tmp/tt-it-XXXXXX/a/.keys-NN/ hit it). Each form runs a
# short CURVE run over loopback to completion; bad values exit 2 with a reason.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json
keys=$TMP/k
while (( ${#keys} + 12 < 40 )); do keys+=x; done # 12 = length of "/server.cert"
"$COORD" keygen "$keys" --clients 1 >/dev/null
[[ ${#keys} -eq 28 ]] || fail "key directory path of ${#keys} characters, want 28"
printf '[Troupe]\nREGISTER_TIMEOUT_S=20\n' > "$TMP/config.ini" # a refused agentd fails in 20 s, not 60

run_curve() { # run_curve NAME SERVER_KEY: a 3-step CURVE run with one agentd of 4 slots
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$COORD" run "$SC" --out "$TMP/$1" --steps 3 --quiet --no-progress --config "$TMP/config.ini" \
        --listen "tcp://127.0.0.1:$port" --external --keys "$keys" 2>"$TMP/$1.err" &
    local coord=$!
    "$AGENTD" --connect "tcp://127.0.0.1:$port" --slots 4 --data-dir "$TMP/$1-data" \
        --server-key "$2" --cert "$keys/agents/agent-1.cert" 2>"$TMP/$1-agentd.err" &
    PIDS+=("$coord" "$!")
    wait "$coord" || { cat "$TMP/$1.err" "$TMP/$1-agentd.err" >&2; fail "$1: the CURVE run failed"; }
    [[ $(stats "$TMP/$1/sim.tlog" complete) == True ]] || fail "$1: the run did not complete"
}
cert=$keys/server.cert
[[ ${#cert} -eq 40 ]] || fail "certificate path of ${#cert} characters, want 40"
run_curve path40 "$cert"
z85=$(sed -n 's/^ *public-key = "\(.*\)"$/\1/p' "$cert")
[[ ${#z85} -eq 40 ]] || fail "no public key in $cert"
run_curve z85 "$z85"

bad() { # bad VALUE REASON: agentd refuses VALUE with exit 2, saying REASON
    local rc=0
    "$AGENTD" --connect tcp://127.0.0.1:1 --server-key "$1" 2>"$TMP/bad.err" || rc=$?
    [[ $rc -eq 2 ]] || fail "--server-key $1: exit $rc, want 2"
    assert_contains "$TMP/bad.err" "$2"
}
bad "$keys/missing.cert" "No such file or directory"
bad "${z85:0:39}\"" "not a Z85 key"
bad "$keys/agents" "not a regular file"
echo "not a certificate" > "$TMP/garbage.cert"
bad "$TMP/garbage.cert" "not a CURVE certificate"
pass "--server-key: a 40-character certificate path and a Z85 key both connect; bad values are named"
