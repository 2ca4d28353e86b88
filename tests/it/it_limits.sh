#!/usr/bin/env bash
# The size limits agree (common/tt_limits.h): what is accepted where it enters
# is carried to the end, and what is too large is refused there, named.
#  - a model that answers ~5 MB (under the 8 MiB response cap, over the old
#    4 MiB wire string limit) is carried: the run completes, the log holds the
#    answers, replay serves them with zero calls;
#  - an answer over the cap is a failed call that says so, at once, not a step
#    timeout; a RESPONSE_CAP_KB above the limit is refused in config.ini;
#  - a 5 MB persona field, a 10 MB broadcast and documents over the per-agent
#    limit are refused by the loader with file:line:col, exit 2, nothing written.
source "$(dirname "$0")/lib.sh"
cat > "$TMP/two.json" <<JSON
{
  "name": "Big answers", "seed": 5,
  "world": {"name": "Room", "start": "2026-05-01T09:00:00", "step": "PT10M"},
  "agents": ["$SRC/examples/agents/lisa_carter.agent.json",
             "$SRC/examples/agents/oscar_ramos.agent.json"],
  "events": [{"step": 1, "broadcast": "Tell each other about your week."}],
  "steps": 2
}
JSON
# A short step timeout: if an answer were dropped on the way, the agents would
# time out in 60 s, and the run would say "timeout" instead of finishing.
printf '[OpenAI]\nTIMEOUT=60\nMAX_ATTEMPTS=2\nEMBEDDING_MODEL=local\n[Troupe]\nSTEP_TIMEOUT_S=60\n' \
    > "$TMP/config.ini"
run_fake() { # OUT [ARGS...]
    local out=$1
    shift
    OPENAI_BASE_URL=$FAKE_URL/v1 "$COORD" run "$TMP/two.json" --out "$TMP/$out" --llm openai \
        --quiet --config "$TMP/config.ini" "$@"
}

# 1. ~5 MB answers are carried end to end.
start_fakellm --pad-answers 5000000
start=$SECONDS
run_fake big 2> "$TMP/big.err" || { tail -5 "$TMP/big.err"; fail "a run with 5 MB answers failed"; }
[[ $(stats "$TMP/big/sim.tlog" failed_agent_steps) -eq 0 ]] || fail "agent steps failed"
"$COORD" log dump "$TMP/big/sim.tlog" | python3 -c '
import json, sys
sizes = [len(x["response"]) for line in sys.stdin for r in [json.loads(line)]
         for a in r["body"].get("step", {}).get("agents", []) for x in a.get("exchanges", [])]
big = [n for n in sizes if n >= 5000000]
assert len(big) >= 4, ("answers of 5 MB in the log", sizes)
' || fail "the log does not hold the 5 MB answers"
run_fake replayed --replay "$TMP/big/sim.tlog" 2> /dev/null || fail "the replay failed"
[[ $(stats "$TMP/replayed/sim.tlog" llm_calls) -eq 0 ]] || fail "replay made calls"
[[ $(stats "$TMP/big/sim.tlog" final_hash) == $(stats "$TMP/replayed/sim.tlog" final_hash) ]] ||
    fail "replay: final hash differs"
pass "5 MB answers: carried, logged and replayed ($((SECONDS - start)) s)"
kill "$FAKE_PID"

# 2. Answers over the cap: a failed call with its cause, long before any timeout.
start_fakellm --pad-answers 9000000
start=$SECONDS
if run_fake over 2> "$TMP/over.err"; then fail "answers over the cap were accepted"; fi
took=$((SECONDS - start))
assert_contains "$TMP/over.err" "exceeded 8388608 bytes"
assert_not_contains "$TMP/over.err" "timeout"
[[ $took -lt 60 ]] || fail "the run took $took s: it waited for a timeout"
"$COORD" log dump "$TMP/over/sim.tlog" | python3 -c '
import json, sys
steps = [a for line in sys.stdin for r in [json.loads(line)]
         for a in r["body"].get("step", {}).get("agents", [])]
assert len(steps) == 4, steps
for a in steps:
    assert a["status"] == "failed", a["status"]
    assert "exceeded 8388608 bytes" in a["error"], a["error"]
' || fail "the log does not record failed calls with their cause"
pass "9 MB answers: a failed call naming the cap, in $took s"
kill "$FAKE_PID"

# The cap can be lowered, never raised past what the wire carries.
printf '[OpenAI]\nTIMEOUT=60\nMAX_ATTEMPTS=1\nEMBEDDING_MODEL=local\n[Troupe]\nSTEP_TIMEOUT_S=60\nRESPONSE_CAP_KB=64\n' \
    > "$TMP/config.ini"
start_fakellm --pad-answers 100000
if run_fake low 2> "$TMP/low.err"; then fail "answers over RESPONSE_CAP_KB=64 were accepted"; fi
assert_contains "$TMP/low.err" "exceeded 65536 bytes (RESPONSE_CAP_KB=64"
printf '[Troupe]\nRESPONSE_CAP_KB=100000\n' > "$TMP/high.ini"
set +e
"$COORD" run "$TMP/two.json" --out "$TMP/high" --llm offline --quiet --config "$TMP/high.ini" \
    2> "$TMP/high.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "RESPONSE_CAP_KB=100000: exit $rc, expected 2"
assert_contains "$TMP/high.err" "high.ini:2:"
assert_contains "$TMP/high.err" "RESPONSE_CAP_KB"
pass "RESPONSE_CAP_KB lowers the cap and cannot raise it past 8192"

# 3. Scenario inputs too large to deliver are refused where they enter.
python3 - "$TMP" "$SRC" <<'PY'
import json, os, sys
tmp, src = sys.argv[1], sys.argv[2]
lisa = json.load(open(f"{src}/examples/agents/lisa_carter.agent.json"))
lisa["persona"]["life_story"] = "I remember. " * 420000  # 5 MB
json.dump(lisa, open(f"{tmp}/huge.agent.json", "w"), indent=2)
oscar = f"{src}/examples/agents/oscar_ramos.agent.json"
def scenario(name, **kw):
    s = {"name": name, "world": {"name": "Room"}, "agents": [oscar], "steps": 1}
    s.update(kw)
    json.dump(s, open(f"{tmp}/{name}.json", "w"), indent=2)
scenario("persona", agents=["huge.agent.json", oscar])
scenario("broadcast", events=[{"step": 1, "broadcast": "News! " * 1700000}])  # 10 MB
os.makedirs(f"{tmp}/docs", exist_ok=True)
line = "The minutes of a meeting that went on and on and on, line after line.\n"
with open(f"{tmp}/docs/a.txt", "w") as f:
    f.write(line * (9 * 1000 * 1000 // len(line)))
with open(f"{tmp}/docs/b.txt", "w") as f:
    f.write(line * (9 * 1000 * 1000 // len(line)))
scenario("documents", agents=[{"file": oscar, "documents": "docs"}])
PY
refused() { # NAME EXPECTED-LOCATION EXPECTED-TEXT
    set +e
    "$COORD" run "$TMP/$1.json" --out "$TMP/out-$1" --llm offline --quiet 2> "$TMP/$1.err"
    local rc=$?
    set -e
    [[ $rc -eq 2 ]] || { cat "$TMP/$1.err"; fail "$1: exit $rc, expected 2"; }
    grep -qE "^$2" "$TMP/$1.err" || { cat "$TMP/$1.err"; fail "$1: no $2 location"; }
    assert_contains "$TMP/$1.err" "$3"
    [[ ! -e "$TMP/out-$1/sim.tlog" ]] || fail "$1: a log was written"
}
refused persona "$TMP/huge.agent.json:[0-9]+:[0-9]+: persona.life_story: " "TT_LIMIT_PERSONA"
refused broadcast "$TMP/broadcast.json:[0-9]+:[0-9]+: events\[0\].broadcast: " "TT_LIMIT_STIMULUS"
refused documents "$TMP/documents.json:[0-9]+:[0-9]+: agents\[0\]: " "TT_LIMIT_DOCUMENTS"
pass "a 5 MB persona field, a 10 MB broadcast, 18 MB of documents: refused at load"
