#!/usr/bin/env bash
# Hardening (issue #20): what a crash, a hostile file or a full disk can do to
# a run, one reproduction each.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json
"$COORD" run "$SC" --out "$TMP/ref" --steps 3 --quiet 2>/dev/null
ref=$(stats "$TMP/ref/sim.tlog" final_hash)

# 10. A log that ends before its first whole record (killed while writing the
# header or the SimBegin, or cut into it) holds no run: `log verify` fails on
# it, and a run, with or without --resume, starts over it.
for cut in 0 16 40; do
    for resume in "" --resume; do
        d=$TMP/torn-$cut$resume
        mkdir -p "$d"
        head -c $cut "$TMP/ref/sim.tlog" > "$d/sim.tlog"
        ! "$COORD" log verify "$d/sim.tlog" > "$d.verify" 2>&1 || fail "log verify passes a log cut at byte $cut"
        assert_contains "$d.verify" "broken: "
        "$COORD" run "$SC" --out "$d" --steps 3 --quiet $resume 2>"$d.err" \
            || { cat "$d.err"; fail "run ${resume:-fresh} over a log cut at byte $cut"; }
        [[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "cut at $cut $resume: final hash"
        [[ -z $resume ]] || assert_contains "$d.err" "nothing to resume"
    done
done
pass "a log without a whole SimBegin is no run: verify fails, run and --resume start over it"

# 12. Nothing the loader reads can block it: a FIFO as the scenario, as a
# document or as config.ini is refused at once (exit 2, naming the file), and
# a config.ini key outside any [section] is reported where it is.
d=$TMP/fifo
mkdir -p "$d/docs"
cp "$SRC"/examples/agents/*.agent.json "$d/"
mkfifo "$d/scenario.json" "$d/docs/notes.txt" "$d/config.ini"
echo '{"name":"docs","world":{"name":"w","start":"2026-03-01T09:00:00","step":"PT10M"},"agents":[{"file":"lisa_carter.agent.json","documents":"docs"}],"steps":1}' > "$d/docs.json"
rc=0; timeout 20 "$COORD" run "$d/scenario.json" --out "$d/o1" 2>"$d/e1" || rc=$?
[[ $rc -eq 2 ]] || fail "a FIFO as the scenario: exit $rc, want 2"
assert_contains "$d/e1" "$d/scenario.json:1:1: not a regular file"
rc=0; timeout 20 "$COORD" run "$d/docs.json" --out "$d/o2" 2>"$d/e2" || rc=$?
[[ $rc -eq 2 ]] || fail "a FIFO among the documents: exit $rc, want 2"
assert_contains "$d/e2" "docs/notes.txt: not a regular file"
rc=0; timeout 20 "$COORD" run "$SC" --out "$d/o3" --config "$d/config.ini" 2>"$d/e3" || rc=$?
[[ $rc -eq 2 ]] || fail "a FIFO as config.ini: exit $rc, want 2"
assert_contains "$d/e3" "not a regular file"
printf 'MODEL = gpt-4.1\n[OpenAI]\nAPI_TYPE = openai\n' > "$d/nosection.ini"
rc=0; "$COORD" run "$SC" --out "$d/o4" --config "$d/nosection.ini" 2>"$d/e4" || rc=$?
[[ $rc -eq 2 ]] || fail "a key outside any section: exit $rc, want 2"
assert_contains "$d/e4" "$d/nosection.ini:1:9: MODEL: a key outside any [section]"
pass "FIFOs refused, not waited on; a config key outside any section is reported"

# 2. Names that a file system would fold together keep apart: "Ann/Lee",
# "Ann_Lee" and "Ann\Lee" each get their own memory directory, and the run is
# as deterministic as any.
d=$TMP/names
mkdir -p "$d"
python3 - "$SRC/examples/agents/lisa_carter.agent.json" > "$d/names.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
agents = []
for name in ["Ann/Lee", "Ann_Lee", "Ann\\Lee"]:
    p = json.loads(json.dumps(spec))
    p["persona"]["name"] = name
    agents.append(p)
print(json.dumps({"name": "names", "seed": 42,
                  "world": {"name": "w", "start": "2026-03-01T09:00:00", "step": "PT10M"},
                  "agents": agents,
                  "events": [{"step": 1, "broadcast": "Say hello to each other."}],
                  "steps": 3}))
PY
for r in 1 2; do
    "$COORD" run "$d/names.json" --out "$d/r$r" --quiet 2>"$d/r$r.err" || { cat "$d/r$r.err"; fail "run with look-alike names"; }
done
n=$(find "$d/r1/agents" -mindepth 2 -maxdepth 2 -name data.mdb | wc -l)
[[ $n -eq 3 ]] || fail "3 agents, $n memory directories: $(ls "$d/r1/agents")"
[[ -d "$d/r1/agents/Ann_Lee" ]] || fail "the plain name Ann_Lee is not its own directory"
[[ $(stats "$d/r1/sim.tlog" final_hash) == $(stats "$d/r2/sim.tlog" final_hash) ]] \
    || fail "look-alike names: two identical runs differ"
pass "look-alike names get one memory each; identical runs, identical hash"

# 9. An output that cannot be written fails the run (exit 1) naming the file:
# the transcript on a full disk (/dev/full), results.json that cannot be
# replaced. (The log's own write errors are covered by test_tlog.)
d=$TMP/full
mkdir -p "$d/tr" "$d/res"
ln -s /dev/full "$d/tr/transcript.txt"
rc=0; "$COORD" run "$SC" --out "$d/tr" --steps 3 --quiet 2>"$d/tr.err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$d/tr.err"; fail "transcript on a full disk: exit $rc, want 1"; }
assert_contains "$d/tr.err" "cannot write $d/tr/transcript.txt: No space left on device"
ln -s /dev/full "$d/res/results.json.tmp"
rc=0; "$COORD" run "$SC" --out "$d/res" --steps 3 --quiet 2>"$d/res.err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$d/res.err"; fail "results.json not written: exit $rc, want 1"; }
assert_contains "$d/res.err" "cannot write $d/res/results.json"
pass "a transcript or results file that cannot be written fails the run, naming the file"

# 6. --resume goes on as the run began: another seed, provider, model or
# configuration is refused (exit 2, naming what differs) before anything runs.
d=$TMP/settings
"$COORD" run "$SC" --out "$d" --steps 2 --quiet 2>/dev/null
printf '[OpenAI]\nMODEL = another-model\n' > "$TMP/model.ini"
printf '[OpenAI]\nTEMPERATURE = 0.3\n' > "$TMP/temp.ini"
refuse() { # refuse WHAT ARGS...: --resume with ARGS exits 2 saying WHAT
    local what=$1 rc=0
    shift
    env "${ENVS[@]}" "$COORD" run "$SC" --out "$d" --steps 4 --quiet --resume "$@" 2>"$TMP/refuse.err" || rc=$?
    [[ $rc -eq 2 ]] || { cat "$TMP/refuse.err"; fail "resume with $*: exit $rc, want 2"; }
    assert_contains "$TMP/refuse.err" "$what"
}
ENVS=(TT_UNUSED=1)
refuse "the run began with seed 42, this resume has seed 7" --seed 7
refuse "another configuration" --config "$TMP/temp.ini"
start_fakellm # a reachable model: the provider is checked, not the network
ENVS=(OPENAI_API_KEY=sk-test "OPENAI_BASE_URL=$FAKE_URL/v1")
refuse "the run began with provider offline, this resume has openai" --llm openai
[[ $(stats "$d/sim.tlog" steps) -eq 2 ]] || fail "a refused resume changed the log"
"$COORD" run "$SC" --out "$d" --steps 4 --quiet --resume 2>/dev/null || fail "resume with the same settings"
[[ $(stats "$d/sim.tlog" steps) -eq 4 ]] || fail "resume with the same settings: not 4 steps"
# the model is the offline model's own; another model needs a real provider
d=$TMP/settings-model
ENVS=(OPENAI_API_KEY=sk-test "OPENAI_BASE_URL=$FAKE_URL/v1")
env "${ENVS[@]}" "$COORD" run "$SC" --out "$d" --steps 1 --quiet --llm openai 2>/dev/null || fail "run on fakellm"
refuse "the run began with model gpt-5-mini, this resume has another-model" --llm openai --config "$TMP/model.ini"
pass "resume refuses another seed, provider, model or config; the same settings resume"

# 1 (part). A damaged agent memory is never used: 4 KiB of random bytes over
# its start, a cut data.mdb (SIGBUS if mapped) or random meta pages are found
# before LMDB maps the file; `agentd --dump-memory` says so (exit 1), and a
# --resume discards it and rebuilds the agent from the log: the run ends as an
# undamaged resume does. (Flipped bytes in data pages: it_memory_damage.sh.)
d=$TMP/damage-clean
"$COORD" run "$SC" --out "$d" --steps 2 --quiet 2>/dev/null
"$COORD" run "$SC" --out "$d" --steps 4 --quiet --resume 2>/dev/null
clean=$(stats "$d/sim.tlog" final_hash)
for kind in start4k cut meta; do
    d=$TMP/damage-$kind
    "$COORD" run "$SC" --out "$d" --steps 2 --quiet 2>/dev/null
    mem=$d/agents/$(ls "$d/agents" | head -1)
    f=$mem/data.mdb
    case $kind in
    start4k) head -c 4096 /dev/urandom | dd of="$f" conv=notrunc status=none ;;
    cut) truncate -s $(($(stat -c %s "$f") / 2)) "$f" ;;
    meta) head -c $((2 * $(getconf PAGESIZE))) /dev/urandom | dd of="$f" conv=notrunc status=none ;;
    esac
    rc=0; "$AGENTD" --dump-memory "$mem" >/dev/null 2>"$d.dump" || rc=$?
    [[ $rc -eq 1 ]] || { cat "$d.dump"; fail "dump of a $kind-damaged memory: exit $rc, want 1"; }
    assert_contains "$d.dump" "damaged"
    "$COORD" run "$SC" --out "$d" --steps 4 --quiet --resume 2>"$d.err" \
        || { tail "$d.err"; fail "resume over a $kind-damaged memory"; }
    assert_contains "$d.err" "is damaged: discarding it"
    [[ $(stats "$d/sim.tlog" final_hash) == "$clean" ]] || fail "$kind-damaged memory: final hash"
done
pass "a damaged agent memory (random start, cut file, random meta pages) is found, discarded and rebuilt"

# 3. A full agent-memory disk is an agent crash, never a step's content: the
# agentd stops, the coordinator moves and rebuilds its agents, and when the
# disk stays full the run fails (exit 1) with no failed step in the log.
d=$TMP/enospc
mkdir -p "$d/agents"
if mount -t tmpfs -o size=1m,mode=0700 tmpfs "$d/agents" 2>/dev/null; then
    trap 'umount "$d/agents" 2>/dev/null || true; cleanup' EXIT
    rc=0; timeout 120 "$COORD" run "$SC" --out "$d" --steps 400 --quiet 2>"$d.err" || rc=$?
    umount "$d/agents"
    [[ $rc -eq 1 ]] || { tail "$d.err"; fail "agent memory on a full disk: exit $rc, want 1"; }
    assert_contains "$d.err" "memory unwritable"
    assert_contains "$d.err" "giving up (last agentd death: exited with status 3"
    "$COORD" log dump "$d/sim.tlog" > "$d.dump"
    assert_not_contains "$d.dump" "cannot commit memory"
    pass "a full agent-memory disk crashes the agentd and fails the run; nothing of it is logged as a step"
else
    echo "SKIP: cannot mount a tmpfs here (needs root): full agent-memory disk not tested"
fi
