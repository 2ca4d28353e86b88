#!/usr/bin/env bash
# coordinator serve, driven over its HTTP API with curl (real processes, the
# offline model): a session is recorded; replayed from its log it makes zero
# model calls and ends with the same final hash; kill -9 mid-session and
# --resume keeps every committed command; bad commands are refused with a
# clear error and change nothing; an address beyond loopback needs TLS.
source "$(dirname "$0")/lib.sh"
AGENTS=$SRC/examples/agents

# serve DIR [ARGS...]: start a session, wait for session.json; sets SPID, URL, TOKEN
serve() {
    local dir=$1
    shift
    "$COORD" serve --out "$dir" --quiet "$@" 2>>"$TMP/serve.err" &
    SPID=$!
    PIDS+=("$SPID")
    local deadline=$((SECONDS + 60))
    until [[ -s "$dir/session.json" ]]; do
        kill -0 "$SPID" 2>/dev/null || fail "serve $dir exited before it was ready: $(tail -3 "$TMP/serve.err")"
        [[ $SECONDS -lt $deadline ]] || fail "serve $dir: no session.json"
        sleep 0.02
    done
    URL=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['url'])" "$dir/session.json")
    TOKEN=$(cat "$dir/session.token")
}

# cmd JSON -> prints the reply body; HTTP status in $TMP/status
cmd() {
    curl -s -o "$TMP/reply" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        --data-binary "$1" "${URL}v1/command" >"$TMP/status"
    cat "$TMP/reply"
}
ok() { # ok JSON: the command must succeed; prints its result
    local r
    r=$(cmd "$1")
    [[ $(cat "$TMP/status") == 200 ]] || fail "$1 -> $(cat "$TMP/status") $r"
    python3 -c "import json,sys; r=json.loads(sys.argv[1]); assert r['ok']; print(json.dumps(r['result']))" "$r"
}
refused() { # refused JSON STATUS CODE
    local r
    r=$(cmd "$1")
    [[ $(cat "$TMP/status") == "$2" ]] || fail "$1 -> HTTP $(cat "$TMP/status"), expected $2: $r"
    [[ "$r" == *"\"code\":\"$3\""* ]] || fail "$1 -> $r, expected code $3"
}
field() { python3 -c "import json,sys; v=json.loads(sys.argv[1]); print(eval('v'+sys.argv[2]))" "$1" "$2"; }

# A short interview and chat, as a TinyTroupe notebook does it.
script() {
    ok "{\"command\":\"agent.create\",\"spec\":\"$AGENTS/lisa_carter.agent.json\"}" >/dev/null
    ok "{\"command\":\"agent.create\",\"spec\":\"$AGENTS/oscar_ramos.agent.json\",\"name\":\"Oscar\"}" >/dev/null
    ok '{"command":"world.create","name":"Chat","agents":["Lisa Carter","Oscar"],"step":"PT5M"}' >/dev/null
    ok '{"command":"world.make_everyone_accessible","world":"Chat"}' >/dev/null
    ok '{"command":"agent.act","agent":"Lisa Carter","stimulus":{"type":"CONVERSATION","content":"What would make you buy a new phone?","source":"Interviewer"}}'
    ok '{"command":"agent.define","agent":"Oscar","key":"occupation.title","value":"Retired architect"}' >/dev/null
    ok '{"command":"world.broadcast","world":"Chat","content":"Talk about your weekend."}' >/dev/null
    ok '{"command":"world.run","world":"Chat","steps":2}'
    ok '{"command":"llm.ask","task":"story","system":"You tell stories.","user":"Go on with Lisa and Oscar."}' >/dev/null
    ok '{"command":"proposition.check","world":"Chat","proposition":"Oscar talks to Lisa","score":true}'
}

# --- a session, recorded
serve "$TMP/a"
script >"$TMP/script.out"
act=$(head -1 "$TMP/script.out")
[[ $(field "$act" "['step']") == 1 ]] || fail "the interview is step 1: $act"
[[ $(field "$act" "['actions'][-1]['type']") == DONE ]] || fail "an agent's turn ends with DONE: $act"
st=$(ok '{"command":"status"}')
[[ $(field "$st" "['step']") == 3 ]] || fail "status after 3 turns: $st"
[[ $(field "$st" "['worlds'][0]['datetime']") == 2026-03-01T09:10:00 ]] || fail "world clock: $st"
# only Lisa acted in step 1: Oscar's memory starts at step 2
mem=$(ok '{"command":"agent.memory","agent":"Oscar"}')
[[ $(field "$mem" "['episodes'][0]['step']") == 2 ]] || fail "Oscar acted in Lisa's interview: $mem"
ok '{"command":"checkpoint","name":"after the chat"}' >/dev/null
end=$(ok '{"command":"end"}')
wait "$SPID" || fail "serve exited non-zero after end"
hash_a=$(field "$end" "['final_hash']")
[[ $(stats "$TMP/a/sim.tlog" final_hash) == "$hash_a" ]] || fail "end's final_hash is not the log's"
[[ $(stats "$TMP/a/sim.tlog" llm_calls) -gt 0 ]] || fail "the session made no model call"
score=$(tail -1 "$TMP/script.out")
[[ $(field "$score" "['value']") =~ ^[0-9]$ ]] || fail "a proposition's score is 0..9: $score"
[[ ! -e "$TMP/a/session.json" ]] || fail "session.json left behind after end"
[[ $(stat -c %a "$TMP/a/session.token") == 600 ]] || fail "the token file is not 0600"
"$COORD" log verify "$TMP/a/sim.tlog" >/dev/null || fail "log verify of a session"
pass "a session: interview, define, broadcast, run, checkpoint, end"

# --- replayed: the same commands, zero model calls, the same hash
serve "$TMP/b" --replay "$TMP/a/sim.tlog"
script >/dev/null
ok '{"command":"checkpoint","name":"after the chat"}' >/dev/null
end=$(ok '{"command":"end"}')
wait "$SPID" || fail "replayed serve exited non-zero"
[[ $(field "$end" "['final_hash']") == "$hash_a" ]] || fail "replay: a different final hash"
[[ $(stats "$TMP/b/sim.tlog" llm_calls) == 0 ]] || fail "replay made model calls"
"$COORD" log diff "$TMP/a/sim.tlog" "$TMP/b/sim.tlog" >/dev/null || fail "log diff of the replay"
pass "replayed session: zero model calls, same final hash"

# --- bad commands: clear errors, nothing changes, the session goes on
serve "$TMP/c"
ok "{\"command\":\"agent.create\",\"spec\":\"$AGENTS/lisa_carter.agent.json\"}" >/dev/null
records=$("$COORD" log stats "$TMP/c/sim.tlog" | python3 -c "import json,sys; print(json.load(sys.stdin)['records'])")
refused '{"command":"agent.act","agent":"Nobody"}' 404 unknown_agent
refused '{"command":"agent.define","agent":"Lisa Carter","key":"age.years","value":3}' 400 bad_request
refused '{"command":"agent.define","agent":"Lisa Carter","key":"a..b","value":3}' 400 bad_request
refused '{"command":"agent.stimulus","agent":"Lisa Carter","type":"SMELL","content":"x"}' 400 bad_request
long=$(printf 'a%.0s' $(seq 1 20000))$(printf 'b%.0s' $(seq 1 20000)) # 40 KB: over TT_LIMIT_STIMULUS
refused "{\"command\":\"agent.stimulus\",\"agent\":\"Lisa Carter\",\"content\":\"$long\",\"type\":\"THOUGHT\"}" 400 bad_request
assert_contains "$TMP/reply" "TT_LIMIT_STIMULUS"
refused "{\"command\":\"agent.create\",\"spec\":\"$AGENTS/lisa_carter.agent.json\"}" 409 conflict
refused '{"command":"no.such"}' 400 bad_request
refused '{"command": "status", ' 400 bad_request
refused '[1, 2]' 400 bad_request
refused '{"command":"world.run","world":"Nowhere","steps":1}' 404 unknown_world
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer 0000" -d '{"command":"status"}' "${URL}v1/command")
[[ $code == 401 ]] || fail "a wrong token got HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '{"command":"status"}' "${URL}v1/command")
[[ $code == 401 ]] || fail "no token got HTTP $code"
after=$("$COORD" log stats "$TMP/c/sim.tlog" | python3 -c "import json,sys; print(json.load(sys.stdin)['records'])")
[[ $after == "$records" ]] || fail "refused commands wrote to the log ($records -> $after records)"
r=$(ok '{"command":"agent.act","agent":"Lisa Carter"}')
[[ $(field "$r" "['status']") == ok ]] || fail "the session did not go on: $r"
pass "bad commands refused, the session goes on"

# --- kill -9 mid-session, then --resume: the state of the last committed command
ok "{\"command\":\"agent.create\",\"spec\":\"$AGENTS/oscar_ramos.agent.json\"}" >/dev/null
ok '{"command":"world.create","name":"Cafe","agents":["Lisa Carter","Oscar Ramos"],"step":"PT1H"}' >/dev/null
ok '{"command":"world.run","world":"Cafe","steps":3}' >/dev/null
ok '{"command":"agent.stimulus","agent":"Oscar Ramos","type":"THOUGHT","content":"I should call my sister."}' >/dev/null
kill -9 "$SPID"
wait "$SPID" 2>/dev/null || true
serve "$TMP/c" --resume
st=$(ok '{"command":"status"}')
[[ $(field "$st" "['step']") == 4 ]] || fail "resumed at the wrong step: $st"
[[ $(field "$st" "['agents']") == "['Lisa Carter', 'Oscar Ramos']" ]] || fail "resumed agents: $st"
[[ $(field "$st" "['worlds'][0]['datetime']") == 2026-03-01T12:00:00 ]] || fail "resumed clock: $st"
r=$(ok '{"command":"agent.act","agent":"Oscar Ramos"}')
[[ $(field "$r" "['step']") == 5 ]] || fail "the next turn after resume: $r"
mem=$(ok '{"command":"agent.memory","agent":"Oscar Ramos","last":4}')
[[ "$mem" == *"call my sister"* ]] || fail "the stimulus recorded before the kill was lost: $mem"
ok '{"command":"end"}' >/dev/null
wait "$SPID" || fail "resumed serve exited non-zero"
"$COORD" log verify "$TMP/c/sim.tlog" >/dev/null || fail "log verify after resume"
pass "kill -9 and --resume keep every committed command"

# --- beyond loopback only with TLS
if "$COORD" serve --out "$TMP/d" --http 0.0.0.0:0 2>"$TMP/tls.err"; then
    fail "serve on 0.0.0.0 without TLS started"
fi
assert_contains "$TMP/tls.err" "needs TLS"
[[ ! -e "$TMP/d/sim.tlog" ]] || fail "a refused serve wrote a log"
pass "beyond loopback without TLS is refused"
