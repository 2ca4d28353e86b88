#!/usr/bin/env bash
# A connection lost is not an agentd lost: mid-run, every agentd's TCP
# connection to the coordinator is destroyed (`ss -K`, as a network fault or a
# connection the gate shut would). The agentds reconnect and register again,
# their agents are placed again and rebuilt from the log, none is declared dead
# or killed, and the run ends with the fault-free run's final hash.
source "$(dirname "$0")/lib.sh"
# ss -K needs root and a kernel that destroys sockets on request
probe=$(python3 - <<'PY'
import socket, subprocess
srv = socket.create_server(("127.0.0.1", 0))
port = srv.getsockname()[1]
cli = socket.create_connection(("127.0.0.1", port))
try:
    subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=", str(port)], capture_output=True)
except OSError:  # no ss at all
    print("no ss")
    raise SystemExit
try:
    cli.send(b"x")
    print("kept")
except OSError:
    print("destroyed")
PY
)
if [[ $probe != destroyed ]]; then
    echo "SKIP: ss -K cannot destroy sockets here (needs root and INET_DIAG_DESTROY)"
    exit 0
fi
SC=$SRC/examples/scenarios/focus_group.json
STEPS=300
"$COORD" run "$SC" --out "$TMP/ref" --steps $STEPS --quiet
ref=$(stats "$TMP/ref/sim.tlog" final_hash)

d=$TMP/cut
"$COORD" run "$SC" --out "$d" --steps $STEPS --quiet 2>"$TMP/cut.err" &
pid=$!
PIDS+=("$pid")
wait_for_step "$d/sim.tlog" 100
agentds=$(pgrep -f -- "--data-dir $d" || true)
[[ -n "$agentds" ]] || fail "no agentd running at step 100 (run too short?)"
port=$(tr '\0' ' ' </proc/$(head -1 <<<"$agentds")/cmdline | grep -oE 'tcp://127\.0\.0\.1:[0-9]+' | cut -d: -f3)
[[ -n "$port" ]] || fail "cannot read the coordinator's port from an agentd's command line"
ss -K dst 127.0.0.1 dport = "$port" >/dev/null 2>&1
wait_for_step "$d/sim.tlog" 200
for a in $agentds; do
    tr '\0' ' ' </proc/"$a"/cmdline 2>/dev/null | grep -qF -- "--data-dir $d" ||
        fail "agentd $a was gone after its connection was cut: $(grep -m1 'is dead' "$TMP/cut.err")"
done
wait "$pid" || fail "the run exited $?: $(tail -3 "$TMP/cut.err")"
[[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "final hash differs from the fault-free run"
assert_contains "$TMP/cut.err" "is back on a new connection"
assert_not_contains "$TMP/cut.err" "is dead"
pass "$(wc -w <<<"$agentds") agentds' connections cut at step 100: they registered again, none died, same final hash"
