#!/usr/bin/env bash
# Peers that never say hello and send frames just under MAXMSGSIZE (31 MB)
# on 64 connections, as fast as the coordinator takes them, during a run:
# the coordinator's memory stays bounded (its peak RSS below 1 GiB; without
# the receive high-water mark, the connection cap and the malloc threshold of
# coord_gate.c it grew by about 60 MB a second for as long as the flood
# lasted) and the run finishes with its undisturbed final hash.
source "$TT_SOURCE_DIR/tests/it/lib.sh"
source "$TT_SOURCE_DIR/tests/chaos/lib.sh"
STEPS=${TT_BLOAT_STEPS:-120}
LIMIT_KB=1048576
MIN_FLOOD_S=15 # the run must have been under the flood this long
# The flood starves a loaded two-core machine: agentds that miss their
# heartbeats for the default 5 s would be replaced, and their replacements
# would have to win a connection back from the strangers (see coord_gate.c:
# the cap cannot tell them apart). That is not what this test is about.
printf '[Troupe]\nLIVENESS_MS=120000\n' >"$TMP/patient.ini"
export OPENAI_API_KEY=sk-bloat-test
# The reference run: fakellm's latency changes no answer, so it need not wait.
start_fakellm
OPENAI_BASE_URL=$FAKE_URL/v1 "$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --quiet \
    --config "$TMP/patient.ini"
ref=$(stats "$TMP/ref/sim.tlog" final_hash)
# Under the flood every step waits for the model (60 ms a call, several calls
# in a row), so the run outlasts the flood however fast the machine is:
# offline, 300 steps took 10 s on a quiet fast one.
start_fakellm --latency-ms 60
export OPENAI_BASE_URL=$FAKE_URL/v1

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
d=$TMP/bloat
TROUPE_LOG_LEVEL=info "$COORD" run "$SC" --out "$d" --steps $STEPS --quiet \
    --config "$TMP/patient.ini" --listen "tcp://127.0.0.1:$port" 2>"$d.err" &
coord=$!
PIDS+=("$coord")
# the agentds are in before the flood: the cap cannot tell them from strangers
wait_for_step "$d/sim.tlog" 3
"$ROGUE" "tcp://127.0.0.1:$port" 3600 1 bloat >"$d.rogue" &
rogue=$!
PIDS+=("$rogue")
started=$SECONDS
peak=0
while kill -0 "$coord" 2>/dev/null; do
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$coord/status" 2>/dev/null || true)
    [[ -z $hwm ]] || peak=$hwm
    if [[ $peak -ge $LIMIT_KB ]]; then
        kill -9 "$coord" "$rogue" 2>/dev/null || true
        fail "the coordinator's peak RSS reached ${peak} kB (limit ${LIMIT_KB} kB) after" \
            "$((SECONDS - started)) s of 31 MB frames on 64 connections"
    fi
    sleep 0.1
done
flood_s=$((SECONDS - started))
wait "$coord" || { tail "$d.err"; fail "the run failed under the flood"; }
kill "$rogue" 2>/dev/null || true
wait "$rogue" 2>/dev/null || true # SIGTERM: it prints how many frames it sent
sent=$(cat "$d.rogue")
[[ $flood_s -ge $MIN_FLOOD_S ]] ||
    fail "the run ended ${flood_s} s into the flood (< ${MIN_FLOOD_S} s): raise TT_BLOAT_STEPS"
[[ ${sent:-0} -gt 0 ]] || fail "the rogue sent no frame"
grep -q "refused a connection" "$d.err" || fail "no connection was refused"
[[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "final hash differs under the flood"
echo "flood: ${sent} frames of 31 MB for ${flood_s} s; coordinator peak RSS ${peak} kB"
pass "chaos: peers sending 31 MB frames on 64 connections cannot bloat the coordinator"
