#!/usr/bin/env bash
# Security basics with real processes:
#  - by default the coordinator listens on loopback only (checked with ss);
#  - an API key never appears in any file of the run, on stderr (even at debug
#    level), in any process's command line, or in fakellm's view of the run
#    except its Authorization header (tested with a canary key);
#  - under umask 022, what a run creates is private (files 0600, dirs 0700).
source "$(dirname "$0")/lib.sh"
CANARY="sk-CANARY-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_fakellm
SC=$SRC/examples/scenarios/focus_group.json
umask 022
OPENAI_API_KEY=$CANARY OPENAI_BASE_URL=$FAKE_URL/v1 TROUPE_LOG_LEVEL=debug \
    "$COORD" run "$SC" --out "$TMP/run" --llm openai --steps 200 >"$TMP/stdout" 2>"$TMP/stderr" &
coord=$!
wait_for_step "$TMP/run/sim.tlog" 2
# listeners of this run's processes (the coordinator and its agentds, not
# other runs on the machine): only loopback
ss -ltnpH > "$TMP/ss" || true
pids=$(printf '%s\n' "$coord" $(pgrep -f -- "--data-dir $TMP/run" || true) | sed 's/^/pid=/;s/$/,/')
ours=$(grep -F "$pids" "$TMP/ss" || true)
[[ -n "$ours" ]] || fail "no listener of the coordinator found with ss"
! awk '{print $4}' <<< "$ours" | grep -vqE '^(127\.|\[::1\]|localhost)' \
    || fail "listening beyond loopback: $ours"
# no key in any command line
for p in $coord $(pgrep -f -- "--data-dir $TMP/run" || true); do
    ! tr '\0' ' ' < "/proc/$p/cmdline" | grep -q "$CANARY" || fail "API key in /proc/$p/cmdline"
done
wait "$coord" || fail "run failed"
"$COORD" log report "$TMP/run/sim.tlog" --html "$TMP/run/report.html" >/dev/null
"$COORD" log dump "$TMP/run/sim.tlog" > "$TMP/run/dump.jsonl"
! grep -rqF "$CANARY" "$TMP/run" "$TMP/stdout" "$TMP/stderr" || fail "the API key leaked into the run's output"
[[ -s "$TMP/stderr" ]] || fail "expected debug logging on stderr"
rm "$TMP/run/report.html" "$TMP/run/dump.jsonl" # made by this test, not by the run
bad=$(find "$TMP/run" \( -type f -perm /077 -o -type d -perm /077 \) -printf '%m %p\n')
[[ -z "$bad" ]] || fail "files or directories readable by others: $bad"
pass "security: loopback only, canary key never written, private files"
