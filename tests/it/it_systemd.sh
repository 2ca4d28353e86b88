#!/usr/bin/env bash
# The systemd units (scripts/cluster/systemd/):
#  - `systemd-analyze verify` accepts them (with the binaries of this build);
#  - `coordinator keygen` writes public certificates 0644 and secrets 0600, or
#    0640 owned by a group with --group;
#  - an agentd (and a coordinator) that cannot read its key says which file and
#    why -- not "not a Z85 key or certificate" -- and exits 2, which the units
#    do not restart;
#  - both units' ExecStart, expanded as systemd would (tests/it/systemd_exec.py),
#    run as a non-root user with the keys `keygen --group` wrote and complete a
#    CURVE run in their state directories;
#  - with systemd as PID 1 the units would run for real: not the case in the
#    containers this is tested in, so that part says SKIP.
source "$(dirname "$0")/lib.sh"
UNITS=$SRC/scripts/cluster/systemd
SD=$TMP/sd # a tree a non-root user can walk: $TMP itself is 0700
chmod 0711 "$TMP"
mkdir -m 0755 "$SD"

# --- systemd-analyze verify
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP (part): systemd-analyze is not installed (Debian package systemd); units not verified"
else
    mkdir "$SD/units"
    cp "$UNITS"/*.service "$UNITS"/*.target "$SD/units/"
    sed -i "s|/usr/local/bin/|$BIN/|g" "$SD/units"/*.service
    (cd "$SD/units" && systemd-analyze verify troupe-agentd@1.service \
        troupe-coordinator@demo.service troupe.target) >"$SD/verify.out" 2>&1 \
        || { cat "$SD/verify.out"; fail "systemd-analyze verify rejected the units"; }
    [[ ! -s "$SD/verify.out" ]] || { cat "$SD/verify.out"; fail "systemd-analyze verify warned"; }
    # and it would catch a broken unit
    printf '[Service]\nExecStart=%s/agentd\nNoSuchKey=1\n' "$BIN" >"$SD/units/troupe-bad@.service"
    (cd "$SD/units" && systemd-analyze verify troupe-bad@1.service) >"$SD/bad.out" 2>&1 || true
    assert_contains "$SD/bad.out" "NoSuchKey"
    pass "systemd-analyze verify: units accepted, a broken one is not"
fi

# --- keygen modes
mode() { stat -c '%a %G' "$1"; }
"$COORD" keygen "$SD/plain" --clients 2 >/dev/null
for f in server.cert agents/agent-1.cert agents/agent-2.cert clients/agent-1.cert clients/agent-2.cert; do
    [[ $(stat -c %a "$SD/plain/$f") == 644 ]] || fail "$f is $(mode "$SD/plain/$f"), not 644"
done
for f in server.cert_secret agents/agent-1.cert_secret agents/agent-2.cert_secret; do
    [[ $(stat -c %a "$SD/plain/$f") == 600 ]] || fail "$f is $(mode "$SD/plain/$f"), not 600"
done
[[ $(stat -c %a "$SD/plain/agents") == 700 ]] || fail "agents/ is $(mode "$SD/plain/agents")"
[[ ! -e "$SD/plain/clients/agent-1.cert_secret" ]] || fail "a secret in clients/"
GROUP=$(id -gn nobody 2>/dev/null || echo nogroup)
mkdir -p "$SD/etc/troupe"
"$COORD" keygen "$SD/etc/troupe/keys" --clients 1 --group "$GROUP" >/dev/null
K=$SD/etc/troupe/keys
for f in server.cert_secret agents/agent-1.cert_secret; do
    [[ $(mode "$K/$f") == "640 $GROUP" ]] || fail "$f is $(mode "$K/$f"), not 640 $GROUP"
done
[[ $(mode "$K/agents") == "750 $GROUP" ]] || fail "agents/ is $(mode "$K/agents")"
[[ $(stat -c %a "$K/server.cert") == 644 ]] || fail "server.cert is not 644"
"$COORD" keygen "$SD/x" --group no-such-group-$$ >"$SD/nogroup.out" 2>&1 && fail "unknown group accepted"
assert_contains "$SD/nogroup.out" "no-such-group-$$: no such group"
pass "keygen: public 0644, secret 0600 (0640 $GROUP with --group)"

# --- a key the service user cannot read: the error names the file and the cause
if [[ $(id -u) -eq 0 ]]; then
    as_user() { setpriv --reuid=nobody --regid="$GROUP" --clear-groups -- "$@"; }
else
    as_user() { "$@"; }
    # not root: the owner reads 0600, so these two are made unreadable to all
    chmod 0000 "$SD/plain/agents/agent-1.cert_secret" "$SD/plain/server.cert_secret"
fi
chmod 0755 "$SD/plain/agents" # the directory is open; the secret file is not
set +e
as_user "$AGENTD" --connect tcp://127.0.0.1:1 --server-key "$SD/plain/server.cert" \
    --cert "$SD/plain/agents/agent-1.cert" 2>"$SD/unreadable.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "agentd with an unreadable key exited $rc, not 2"
assert_contains "$SD/unreadable.err" "cannot read $SD/plain/agents/agent-1.cert_secret: Permission denied"
assert_not_contains "$SD/unreadable.err" "Z85"
"$AGENTD" --connect tcp://127.0.0.1:1 --server-key "$SD/missing.cert" 2>"$SD/missing.err" && fail "missing key accepted"
assert_contains "$SD/missing.err" "$SD/missing.cert: cannot open: No such file or directory"
"$AGENTD" --connect tcp://127.0.0.1:1 --cert "$SD/plain/clients/agent-1.cert" \
    --server-key "$SD/plain/server.cert" 2>"$SD/public.err" && fail "a public-only --cert accepted"
assert_contains "$SD/public.err" "agent-1.cert_secret"
mkdir -m 0777 "$SD/out"
set +e
as_user "$COORD" run "$SRC/tests/it/data/world.json" --out "$SD/out/r" --quiet --external \
    --listen tcp://127.0.0.1:0 --keys "$SD/plain" 2>"$SD/coord-unreadable.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "coordinator with an unreadable key exited $rc, not 2"
assert_contains "$SD/coord-unreadable.err" "cannot read $SD/plain/server.cert_secret: Permission denied"
pass "an unreadable key is named with its cause, exit 2 (the units do not restart on 2)"

# --- the units' commands, as a non-root user, with the keys keygen --group wrote
if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP (part): not root, so the units' commands cannot run as another user"
else
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$SD/etc/troupe/scenarios"
    cp "$SRC/tests/it/data/world.json" "$SD/etc/troupe/scenarios/demo.json"
    # its people are files beside it: ../../../examples/agents from scenarios/
    mkdir -p "$SD/examples" && cp -r "$SRC/examples/agents" "$SD/examples/"
    sed -e "s|^TROUPE_LISTEN=.*|TROUPE_LISTEN=tcp://127.0.0.1:$port|" \
        -e "s|^TROUPE_OPTIONS=\(.*\)|TROUPE_OPTIONS=\1 --steps 3 --llm offline|" \
        "$UNITS/troupe-coordinator.env.example" >"$SD/coordinator.env"
    sed -i "s|/etc/troupe/|$SD/etc/troupe/|g" "$SD/coordinator.env"
    sed -e "s|^TROUPE_COORDINATOR=.*|TROUPE_COORDINATOR=tcp://127.0.0.1:$port|" \
        -e "s|^TROUPE_SLOTS=.*|TROUPE_SLOTS=8|" \
        -e "s|/etc/troupe/keys/agent-1|/etc/troupe/keys/agents/agent-1|" \
        -e "s|/etc/troupe/|$SD/etc/troupe/|g" \
        "$UNITS/troupe-agentd.env.example" >"$SD/agentd.env"
    unit_exec() { # unit_exec UNIT INSTANCE ENV_FILE
        python3 "$SRC/tests/it/systemd_exec.py" "$SD/units/$1" "$2" "$SD" "$3" "$BIN" nobody "$GROUP"
    }
    [[ -d "$SD/units" ]] || { mkdir "$SD/units"; cp "$UNITS"/*.service "$SD/units/"; }
    unit_exec troupe-coordinator@.service demo "$SD/coordinator.env" >"$SD/coord.out" 2>"$SD/coord.err" &
    coord=$!
    PIDS+=("$coord")
    unit_exec troupe-agentd@.service 1 "$SD/agentd.env" 2>"$SD/agentd.err" &
    PIDS+=($!)
    rc=0
    wait "$coord" || rc=$?
    [[ $rc -eq 0 ]] || { cat "$SD/coord.err" "$SD/agentd.err"; fail "the coordinator unit's command exited $rc"; }
    RUN=$SD/var/lib/troupe/runs/demo
    [[ $(stat -c %U "$RUN/sim.tlog") == nobody ]] || fail "the run was not written by the service user"
    assert_contains "$RUN/results.json" '"completed"'
    [[ $(stats "$RUN/sim.tlog" steps) -eq 3 ]] || fail "the run has not 3 steps"
    [[ -n $(ls "$SD/var/lib/troupe/agentd-1") ]] || fail "the agentd wrote nothing in its state directory"
    [[ $(stat -c %U "$SD/var/lib/troupe/agentd-1") == nobody ]] || fail "agentd-1 not the user's"
    pass "both units' commands ran as nobody:$GROUP with keygen --group keys over CURVE: run completed"
fi

# --- a real systemd
if [[ $(ps -p 1 -o comm= 2>/dev/null) != systemd ]]; then
    echo "SKIP (part): systemd is not PID 1 here (PID 1 is $(ps -p 1 -o comm= 2>/dev/null || echo unknown));" \
        "the units were verified and their commands run, but not started by systemd"
else
    echo "SKIP (part): systemd is PID 1, but this test does not install units into the host's systemd"
fi
