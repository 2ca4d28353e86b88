#!/usr/bin/env bash
# scripts/cluster/launch-ssh.sh and stop-ssh.sh with a fake `ssh` on PATH that
# runs the command here, with HOME=$TMP/hosts/HOST, so each "host" has its own
# home (keys, data, logs). It sleeps a while before running and records how many
# ssh connections were open at once:
#  - six hosts, three at a time: connections overlap (the launcher does not
#    serialise) and never exceed three; every agentd gets its own key over the
#    connection; the CURVE run completes;
#  - stop-ssh.sh RUN stops only that run's agentds: another run's stay alive, and
#    so does a process whose command line merely mentions the run's directory.
source "$(dirname "$0")/lib.sh"
export FAKE_HOSTS=$TMP/hosts
mkdir -p "$TMP/bin" "$FAKE_HOSTS/.active"
cat >"$TMP/bin/ssh" <<'SSH'
#!/usr/bin/env bash
# fake ssh: drop options and the host; run the command here in the host's HOME
while [[ $# -gt 0 ]]; do
    case $1 in
    -o) shift 2 ;;
    -n) exec </dev/null; shift ;;
    -*) shift ;;
    *) break ;;
    esac
done
host=$1
shift
[[ $host == down ]] && { echo "ssh: connect to host down port 22: Connection refused" >&2; exit 255; }
touch "$FAKE_HOSTS/.active/$BASHPID"
ls "$FAKE_HOSTS/.active" | wc -l >>"$FAKE_HOSTS/.overlap"
sleep "${FAKE_SSH_DELAY:-0}"
export HOME=$FAKE_HOSTS/$host
mkdir -p "$HOME"
rc=0
bash -c "$*" || rc=$?
rm -f "$FAKE_HOSTS/.active/$BASHPID"
exit $rc
SSH
chmod +x "$TMP/bin/ssh"
export PATH=$TMP/bin:$PATH TROUPE_AGENTD=$AGENTD
LAUNCH=$SRC/scripts/cluster/launch-ssh.sh
STOP=$SRC/scripts/cluster/stop-ssh.sh
cd "$TMP"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- bad input
printf 'h1 many\n' >"$TMP/bad.hosts"
"$LAUNCH" "$TMP/bad.hosts" tcp://127.0.0.1:1 >"$TMP/bad.out" 2>&1 && fail "bad slots accepted"
assert_contains "$TMP/bad.out" "slots 'many' is not a number"
"$STOP" 'x;rm' >"$TMP/bad.out" 2>&1 && fail "bad run id accepted"
assert_contains "$TMP/bad.out" "letters, digits"
pass "bad hosts file and run id refused"

# --- run A: six hosts, three at a time, CURVE
for i in 1 2 3 4 5 6; do echo "h$i 1"; done >"$TMP/a.hosts"
[[ $("$LAUNCH" --print-timeout "$TMP/a.hosts") -eq $((30 + 60)) ]] \
    || fail "timeout for 6 hosts, 32 at a time, is not one wave"
[[ $(TROUPE_SSH_PARALLEL=3 "$LAUNCH" --print-timeout "$TMP/a.hosts") -eq $((2 * 30 + 60)) ]] \
    || fail "timeout for 6 hosts, 3 at a time, is not two waves"
"$COORD" keygen "$TMP/keys" --clients 6 >/dev/null
port=$(free_port)
register_s=$(TROUPE_SSH_PARALLEL=3 "$LAUNCH" --print-timeout "$TMP/a.hosts")
"$COORD" run "$SRC/tests/it/data/world.json" --out "$TMP/a" --steps 3 --llm offline --quiet \
    --listen "tcp://127.0.0.1:$port" --external --keys "$TMP/keys" \
    --set "config.Troupe.REGISTER_TIMEOUT_S=$register_s" 2>"$TMP/a.err" &
coord=$!
PIDS+=("$coord")
: >"$FAKE_HOSTS/.overlap"
FAKE_SSH_DELAY=2 TROUPE_SSH_PARALLEL=3 TROUPE_RUN_ID=runA \
    "$LAUNCH" "$TMP/a.hosts" "tcp://127.0.0.1:$port" "$TMP/keys" >"$TMP/launch-a.out" 2>&1 \
    || { cat "$TMP/launch-a.out"; fail "launch-ssh.sh failed"; }
cat "$TMP/launch-a.out"
max=$(sort -n "$FAKE_HOSTS/.overlap" | tail -1)
[[ $max -ge 2 ]] || fail "the launcher serialised its hosts (at most $max ssh at once)"
[[ $max -le 3 ]] || fail "more than TROUPE_SSH_PARALLEL=3 ssh at once ($max)"
[[ $(wc -l <"$TMP/troupe-run-runA.hosts") -eq 6 ]] || fail "the run record does not list 6 hosts"
for i in 1 2 3 4 5 6; do
    d=$FAKE_HOSTS/h$i/troupe-runs/runA/agentd-$i
    cmp -s "$d/keys/agent.cert_secret" "$TMP/keys/agents/agent-$i.cert_secret" \
        || fail "host h$i did not receive agent-$i's key"
    [[ $(stat -c %a "$d/keys/agent.cert_secret") == 600 ]] || fail "h$i's secret is not 0600"
done
pass "6 hosts started, at most $max at once (limit 3), each with its own key"
rc=0
wait "$coord" || rc=$?
[[ $rc -eq 0 ]] || { cat "$TMP/a.err"; fail "the coordinator exited $rc"; }
assert_contains "$TMP/a/results.json" '"completed"'
pass "run A completed over CURVE with the launched agentds"

# --- runs B and C wait for a coordinator that is not there; stop B only
dead=tcp://127.0.0.1:$(free_port)
printf 'h1 2\nh2 2\n' >"$TMP/bc.hosts"
TROUPE_RUN_ID=runB "$LAUNCH" "$TMP/bc.hosts" "$dead" >/dev/null || fail "launch of run B failed"
TROUPE_RUN_ID=runC "$LAUNCH" "$TMP/bc.hosts" "$dead" >/dev/null || fail "launch of run C failed"
# a bystander whose command line mentions run B's directory, not an agentd
bash -c 'sleep 600' "$FAKE_HOSTS/h1/troupe-runs/runB/agentd-1" &
bystander=$!
PIDS+=("$bystander")
count() { pgrep -f -- "--data-dir $FAKE_HOSTS/h[0-9]/troupe-runs/$1/" | wc -l; }
deadline=$((SECONDS + 60))
until [[ $(count runB) -eq 2 && $(count runC) -eq 2 ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "runs B and C do not have 2 agentds each ($(count runB), $(count runC))"
    sleep 0.05
done
TROUPE_SSH_PARALLEL=1 "$STOP" runB >"$TMP/stop.out" 2>&1 || { cat "$TMP/stop.out"; fail "stop-ssh.sh failed"; }
cat "$TMP/stop.out"
# the fake hosts share this machine: one host at a time, the first one stops both
stopped=$(grep -o 'stopped [0-9]*' "$TMP/stop.out" | awk '{n += $2} END {print n + 0}')
[[ $stopped -eq 2 ]] || fail "stop-ssh.sh reports $stopped agentds stopped, not 2"
[[ $(count runB) -eq 0 ]] || fail "run B's agentds survived stop-ssh.sh"
[[ $(count runC) -eq 2 ]] || fail "stop-ssh.sh runB stopped run C's agentds"
kill -0 "$bystander" 2>/dev/null || fail "stop-ssh.sh killed a process that is not an agentd"
[[ ! -e "$TMP/troupe-run-runB.hosts" ]] || fail "run B's record left behind"
"$STOP" runC >/dev/null
[[ $(count runC) -eq 0 ]] || fail "run C's agentds survived stop-ssh.sh"
pass "stop-ssh.sh stopped run B's agentds only (run C and a bystander left alive)"

# --- a host that cannot be reached: said, the others started, exit status 1
printf 'h1 1\ndown 1\nh3 1\n' >"$TMP/d.hosts"
rc=0
TROUPE_RUN_ID=runD "$LAUNCH" "$TMP/d.hosts" "$dead" >"$TMP/d.out" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "a launch with an unreachable host exited 0"
assert_contains "$TMP/d.out" "agentd 2 on down NOT started: ssh exited 255: ssh: connect to host down port 22: Connection refused"
assert_contains "$TMP/d.out" "2 agentd(s) started, 1 failed"
[[ $(cut -d' ' -f1 "$TMP/troupe-run-runD.hosts" | tr '\n' ' ') == "h1 h3 " ]] || fail "run D's record is not h1 h3"
"$STOP" runD >/dev/null
[[ $(count runD) -eq 0 ]] || fail "run D's agentds survived stop-ssh.sh"
pass "an unreachable host is reported with ssh's error; the others start; exit status $rc"

