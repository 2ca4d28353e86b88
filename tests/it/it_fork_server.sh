#!/usr/bin/env bash
# Local agentds come from one fork server per run (agentd --fork-server): they
# are the coordinator's own children all the same (it reaps and restarts them),
# show their real arguments, and neither they nor the server outlive a
# coordinator killed -9. With TROUPE_AGENTD set, every agentd is exec'd.
source "$(dirname "$0")/lib.sh"
SCEN=$SRC/examples/scenarios/focus_group.json

# agentds_of DIR -> pids of the agentds serving the run in DIR
agentds_of() { pgrep -f -- "--data-dir $1 " || true; }
# wait_agentds DIR N: until N agentds of DIR run
wait_agentds() {
    local deadline=$((SECONDS + 120)) n=0
    while [[ $SECONDS -lt $deadline ]]; do
        n=$(agentds_of "$1" | wc -l)
        [[ $n -ge $2 ]] && return 0
        sleep 0.05
    done
    fail "$n agentds of $1 running, expected $2"
}

OUT=$TMP/run
"$COORD" run "$SCEN" --out "$OUT" --steps 100000 --quiet 2>"$TMP/err" &
CPID=$!
PIDS+=("$CPID")
wait_agentds "$OUT" 4
servers=$(pgrep -P "$CPID" -f -- "--fork-server" || true)
[[ $(echo "$servers" | grep -c .) -eq 1 ]] || fail "expected one fork server, found: $servers"
for p in $(agentds_of "$OUT"); do
    [[ $(ps -o ppid= -p "$p" | tr -d ' ') == "$CPID" ]] || fail "agentd $p is not the coordinator's child"
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--connect .* --parent-pid $CPID " ||
        fail "agentd $p does not show its arguments: $(tr '\0' ' ' <"/proc/$p/cmdline")"
done
pass "one fork server; its agentds are the coordinator's children and show their arguments"

# an agentd killed is reaped and replaced (from the server), and the run goes on
victim=$(agentds_of "$OUT" | head -1)
kill -9 "$victim"
deadline=$((SECONDS + 120))
while [[ $SECONDS -lt $deadline ]]; do
    agentds_of "$OUT" | grep -qx "$victim" || break
    sleep 0.05
done
wait_agentds "$OUT" 4
agentds_of "$OUT" | grep -qx "$victim" && fail "agentd $victim was not reaped"
[[ $(ps -o stat= -p "$victim" 2>/dev/null || true) != Z* ]] || fail "agentd $victim is a zombie"
at=$("$COORD" log stats --compact "$OUT/sim.tlog" 2>/dev/null | grep -o '"steps":[0-9]*' | cut -d: -f2)
wait_for_step "$OUT/sim.tlog" $((${at:-0} + 2))
[[ $(pgrep -P "$CPID" -f -- "--fork-server" | wc -l) -eq 1 ]] || fail "the fork server is gone"
pass "a killed agentd is replaced and the run goes on"

kill -9 "$CPID"
deadline=$((SECONDS + 120))
while [[ $SECONDS -lt $deadline ]]; do
    left="$(agentds_of "$OUT") $(for s in $servers; do kill -0 "$s" 2>/dev/null && echo "$s" || true; done)"
    [[ -z "${left// /}" ]] && break
    sleep 0.05
done
[[ -z "${left// /}" ]] || fail "outlived the coordinator: $left"
pass "neither the agentds nor the fork server outlive a coordinator killed -9"

# the fork server killed: the next agentd is exec'd, and the run goes on
OUT=$TMP/lost
"$COORD" run "$SCEN" --out "$OUT" --steps 100000 --quiet 2>"$TMP/err" &
CPID=$!
PIDS+=("$CPID")
wait_agentds "$OUT" 4
kill -9 $(pgrep -P "$CPID" -f -- "--fork-server")
victim=$(agentds_of "$OUT" | head -1)
kill -9 "$victim"
deadline=$((SECONDS + 120))
while [[ $SECONDS -lt $deadline ]]; do
    agentds_of "$OUT" | grep -qx "$victim" || break
    sleep 0.05
done
wait_agentds "$OUT" 4
at=$("$COORD" log stats --compact "$OUT/sim.tlog" 2>/dev/null | grep -o '"steps":[0-9]*' | cut -d: -f2)
wait_for_step "$OUT/sim.tlog" $((${at:-0} + 2))
assert_contains "$TMP/err" "the fork server stopped answering"
pass "without its fork server the coordinator execs agentds"

kill "$CPID"

# TROUPE_AGENTD names the program to run for every agentd: no fork server
TROUPE_AGENTD=$AGENTD "$COORD" run "$SCEN" --out "$TMP/exec" --steps 100000 --quiet \
    2>"$TMP/err2" &
CPID=$!
PIDS+=("$CPID")
wait_agentds "$TMP/exec" 4
[[ -z "$(pgrep -P "$CPID" -f -- "--fork-server" || true)" ]] ||
    fail "a fork server ran although TROUPE_AGENTD was set"
kill "$CPID"
pass "TROUPE_AGENTD: agentds exec'd, no fork server"
