#!/usr/bin/env bash
# Running Troupe from a shell, the operator's side:
#  - the model check before step 1: a refused key (401), an unknown model (404)
#    and an unreachable endpoint each stop the run in seconds, exit 1, with one
#    line naming the endpoint, the status and the fix, and write nothing;
#  - the offline model says so on stderr even with --quiet;
#  - --model > TROUPE_MODEL > config.ini MODEL, recorded in SimBegin (run and factory);
#  - --set edits the scenario and the config before they are checked, is
#    recorded in the log and listed in results.json; a bad path is exit 2.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json

# expect_check_failure NAME WANT_TEXT -- ENV... : the run must fail the model check
expect_check_failure() {
    local name=$1 want=$2
    shift 3
    local t0=$SECONDS
    set +e
    env "$@" "$COORD" run "$SC" --out "$TMP/$name" --quiet 2>"$TMP/$name.err"
    local rc=$?
    set -e
    [[ $rc -eq 1 ]] || { cat "$TMP/$name.err"; fail "$name: exit $rc, want 1"; }
    ((SECONDS - t0 < 5)) || fail "$name: the model check took $((SECONDS - t0)) s"
    assert_contains "$TMP/$name.err" "$want"
    [[ $(grep -c . "$TMP/$name.err") -eq 1 ]] || { cat "$TMP/$name.err"; fail "$name: want one line"; }
    [[ ! -e "$TMP/$name" ]] || fail "$name: the output directory was created"
}

start_fakellm --model only-this-model
URL=$FAKE_URL/v1
FAKELLM_API_KEY=sk-right "$FAKELLM" --port 0 --quiet >"$TMP/keyed.port" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $TMP/keyed.port ]] && break; sleep 0.05; done
KEYED=http://127.0.0.1:$(head -1 "$TMP/keyed.port")/v1

expect_check_failure key401 "coordinator: $KEYED refused the API key (HTTP 401): set OPENAI_API_KEY" -- \
    OPENAI_BASE_URL="$KEYED" OPENAI_API_KEY=sk-wrong
expect_check_failure model404 \
    "coordinator: $URL does not know the model \"gpt-nope\" (HTTP 404): pick one it serves with --model" -- \
    OPENAI_BASE_URL="$URL" TROUPE_MODEL=gpt-nope
expect_check_failure unreachable \
    "coordinator: cannot reach the model at http://127.0.0.1:9/v1" -- OPENAI_BASE_URL=http://127.0.0.1:9/v1
assert_contains "$TMP/unreachable.err" "set OPENAI_BASE_URL"
assert_not_contains "$TMP/key401.err" "sk-wrong"
pass "model check: 401, 404 and an unreachable endpoint fail before step 1 with the fix"

# the right key and model pass the check; --model beats TROUPE_MODEL beats MODEL
printf '[OpenAI]\nMODEL=from-ini\n' >"$TMP/model.ini"
sim_model() { "$COORD" log dump "$1" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['body']['begin']['model']); sys.stdin.read()"; }
OPENAI_BASE_URL=$URL "$COORD" run "$SC" --out "$TMP/m_ini" --steps 0 --config "$TMP/model.ini" \
    --quiet 2>"$TMP/m_ini.err" && fail "MODEL=from-ini is unknown to fakellm --model: want a failed check"
OPENAI_BASE_URL=$URL TROUPE_MODEL=only-this-model "$COORD" run "$SC" --out "$TMP/m_env" --steps 1 \
    --config "$TMP/model.ini" --quiet || fail "TROUPE_MODEL must beat config.ini's MODEL"
[[ $(sim_model "$TMP/m_env/sim.tlog") == only-this-model ]] || fail "SimBegin: $(sim_model "$TMP/m_env/sim.tlog")"
OPENAI_BASE_URL=$URL TROUPE_MODEL=gpt-nope "$COORD" run "$SC" --out "$TMP/m_flag" --steps 1 \
    --config "$TMP/model.ini" --model only-this-model --quiet || fail "--model must beat TROUPE_MODEL"
[[ $(sim_model "$TMP/m_flag/sim.tlog") == only-this-model ]] || fail "SimBegin of --model"
grep -q '"model": "only-this-model"' "$TMP/m_flag/results.json" || fail "results.json model"
OPENAI_BASE_URL=$URL "$COORD" factory --count 2 --context "Bakers in Lyon" --out "$TMP/people" \
    --model only-this-model --quiet || fail "factory --model"
"$COORD" log dump "$TMP/people/factory.tlog" >"$TMP/people.dump"
head -1 "$TMP/people.dump" | grep -q '"model":"only-this-model"' || fail "factory.tlog must record --model"
OPENAI_BASE_URL=$URL "$COORD" factory --count 1 --context "Bakers" --out "$TMP/people2" \
    --model gpt-nope --quiet 2>/dev/null && fail "factory with an unknown --model must fail"
pass "--model > TROUPE_MODEL > MODEL, recorded in SimBegin and factory.tlog"

# the offline model is announced even with --quiet
"$COORD" run "$SC" --out "$TMP/off" --steps 1 --quiet 2>"$TMP/off.err" >"$TMP/off.out"
assert_contains "$TMP/off.err" "the offline model answers (a scripted stand-in, NOT an LLM)"
[[ ! -s "$TMP/off.out" ]] || fail "--quiet must keep stdout empty"
pass "the offline model is announced on stderr with --quiet"

# --set: scenario key paths and config settings, recorded and listed
run_set() { "$COORD" run "$SC" --out "$TMP/$1" --quiet "${@:2}" 2>"$TMP/$1.err"; }
run_set s5 --set world.step=PT5M --set steps=2 --set 'events[0].broadcast=Hello from --set' \
    --set config.OpenAI.TEMPERATURE=0.2 || { cat "$TMP/s5.err"; fail "--set run"; }
run_set s20 --set world.step=PT20M --set steps=3 || fail "--set run 2"
python3 - "$TMP" "$COORD" <<'PY'
import json, subprocess, sys
tmp, coord = sys.argv[1], sys.argv[2]
def begin(name):
    out = subprocess.run([coord, "log", "dump", f"{tmp}/{name}/sim.tlog"], capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[0])["body"]["begin"]
a, b = begin("s5"), begin("s20")
assert a["step_seconds"] == 300 and b["step_seconds"] == 1200, (a["step_seconds"], b["step_seconds"])
assert a["steps"] == 2 and b["steps"] == 3, (a["steps"], b["steps"])
sa = json.loads(a["scenario_json"])
assert sa["world"]["step"] == "PT5M" and sa["events"][0]["broadcast"] == "Hello from --set", sa
assert json.loads(a["agent_config_json"])["config"]["temperature"] == 0.2
r = json.load(open(f"{tmp}/s5/results.json"))
assert r["overrides"] == {"world.step": "PT5M", "steps": 2, "events[0].broadcast": "Hello from --set",
                          "config.OpenAI.TEMPERATURE": 0.2}, r["overrides"]
PY
grep -q "Hello from --set" "$TMP/s5/transcript.txt" || fail "the overridden event must be heard"
"$COORD" log diff "$TMP/s5/sim.tlog" "$TMP/s20/sim.tlog" >/dev/null && fail "runs with other --set must differ"
# --resume needs the same --set (the log holds the edited scenario)
"$COORD" run "$SC" --out "$TMP/s5" --resume --quiet 2>"$TMP/resume.err" && fail "resume without --set"
assert_contains "$TMP/resume.err" "--set"
pass "--set: scenario and config overrides are recorded in the log and results.json"

bad_set() { # WANT ARGS...: exit 2 with WANT on stderr, nothing written
    local want=$1
    shift
    set +e
    "$COORD" run "$SC" --out "$TMP/bad" --quiet "$@" 2>"$TMP/bad.err"
    local rc=$?
    set -e
    [[ $rc -eq 2 ]] || { cat "$TMP/bad.err"; fail "--set $*: exit $rc, want 2"; }
    assert_contains "$TMP/bad.err" "$want"
    [[ ! -e "$TMP/bad" ]] || fail "a bad --set must write nothing"
}
bad_set '--set steps.count=3: steps.count: cannot take key "count" of a plain value' --set steps.count=3
bad_set '--set events[9].content=x: events[9].content: index 9 is past the end of a list of' \
    --set 'events[9].content=x'
bad_set 'focus_group.json (after --set):' --set stepz=3
bad_set 'unknown key "stepz"' --set stepz=3
bad_set 'world.step' --set world.step=soon
bad_set '--set config.OpenAI.TEMPRATURE=1: no such setting' --set config.OpenAI.TEMPRATURE=1
bad_set 'expected KEY.PATH=VALUE' --set novalue
pass "--set: bad key paths and values are exit 2 with a clear message"

# the terminal: under a pseudo-terminal 60 columns wide, the status line is
# drawn (also with --quiet) and fits; --no-progress and a redirected stderr
# have none; the transcript on stdout wraps at 60, the file stays at 100
on_tty() { # OUT COMMAND...: run in a 60x20 pseudo-terminal (TTY_COLS wide), output in OUT
    local out=$1
    shift
    TERM=xterm script -qec "stty cols ${TTY_COLS:-60} rows 20; $*" /dev/null >"$out" && return
    local rc=$?
    tail -c 4000 "$out" | tr '\r' '\n' | tail -n 40 >&2
    fail "exit $rc in a terminal: $*"
}
printf '{"name":"Hall","world":{"name":"Hall","start":"2026-03-01T09:00:00","step":"PT10M"},
 "agents":[{"file":"%s","count":20}],"steps":3,
 "events":[{"step":1,"broadcast":"The council proposes a new bike lane on Main Street; would you use it?"}]}' \
    "$SRC/examples/agents/lisa_carter.agent.json" >"$TMP/hall.json"
# slow enough to be seen at every 100 ms tick: agentds that take 0.5 s to
# start, a model that takes 0.3 s to answer
printf '#!/bin/sh\nsleep 0.5\nexec "%s" "$@"\n' "$AGENTD" >"$TMP/slow-agentd"
chmod +x "$TMP/slow-agentd"
start_fakellm --latency-ms 300
SLOW="TROUPE_AGENTD='$TMP/slow-agentd' OPENAI_BASE_URL='$FAKE_URL/v1'"
on_tty "$TMP/tty.out" "$SLOW '$COORD' run '$TMP/hall.json' --out '$TMP/tty' --slots 10 --quiet --max-concurrency 20"
on_tty "$TMP/tty_np.out" "'$COORD' run '$TMP/hall.json' --out '$TMP/tty_np' --slots 10 --quiet --no-progress"
"$COORD" run "$TMP/hall.json" --out "$TMP/notty" --slots 10 --quiet 2>"$TMP/notty.err"
on_tty "$TMP/tty_tr.out" "'$COORD' run '$SC' --out '$TMP/tty_tr' --steps 2 2>/dev/null"
python3 - "$TMP" <<'PY'
import re, sys
tmp = sys.argv[1]
def text(name):
    return open(f"{tmp}/{name}", "rb").read().decode("utf-8", "replace")
status = [p.rstrip("\r\n") for p in text("tty.out").split("\r\x1b[K")
          if p.startswith(("step ", "starting agentds"))]
assert any(s.startswith("starting agentds") for s in status), "no progress while agentds start"
assert any(s.startswith("step 3/3") for s in status), "no step progress"
too_wide = [s for s in status if len(s) > 59]
assert not too_wide, too_wide[:3]
assert "\x1b[K" not in text("tty_np.out"), "--no-progress drew a status line"
assert "\x1b[K" not in text("notty.err"), "a status line on a redirected stderr"
def content(t):  # the wrapped lines ("   > ..."), colours taken off
    t = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", t.replace("\r", ""))
    return [l for l in t.split("\n") if l.lstrip().startswith("> ")]
shown = content(text("tty_tr.out"))
assert shown and max(len(l) for l in shown) <= 60, max(shown, key=len)
filed = content(text("tty_tr/transcript.txt"))
assert max(len(l) for l in filed) > 60, "the file must keep its 100 columns"
print(f"{len(status)} status lines, the widest {max(len(s) for s in status)} columns")
PY
pass "terminal: progress with --quiet fits 60 columns, none when not wanted; transcript wraps at 60"

# a server's rate limit is said where it binds: fakellm answers 429 beyond 3
# requests in flight; 20 agents ask at once. The status line (100 columns) names
# it, results.json counts it per step, and the run still completes.
start_fakellm --latency-ms 300 --capacity 3
TTY_COLS=100 on_tty "$TMP/tty_rl.out" "OPENAI_BASE_URL='$FAKE_URL/v1' '$COORD' run '$TMP/hall.json' --out '$TMP/tty_rl' --slots 10 --quiet --steps 2"
python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
raw = open(f"{tmp}/tty_rl.out", "rb").read().decode("utf-8", "replace")
status = [p.rstrip("\r\n") for p in raw.split("\r\x1b[K") if p.startswith("step ")]
limited = [s for s in status if "rate limited by the model server" in s]
assert limited, f"no status line named the rate limit: {status[-3:]}"
res = json.load(open(f"{tmp}/tty_rl/results.json"))
assert res["status"] == "completed", res["status"]
counted = sum(s.get("rate_limited", 0) for s in res["steps"])
assert counted > 0, res["steps"]
print(f"{len(limited)} status lines named the rate limit; results.json counts {counted} answers")
PY
pass "a server's rate limit (HTTP 429) is named on the status line and counted per step"
