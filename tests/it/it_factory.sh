#!/usr/bin/env bash
# The factory and the extractor as a user runs them: bad input exits 2 with a
# clear line and writes nothing; the offline model makes people with unique
# names and a replayable factory.tlog; through fakellm (real HTTP) a --replay
# regenerates the same files byte for byte with zero requests; a market-research
# run is extracted into extraction.json and extraction.csv that agree, and the
# extraction replays with zero requests too.
source "$(dirname "$0")/lib.sh"
POP=$SRC/examples/populations

# expect_usage "what stderr must say" command... : exit 2 and that message
expect_usage() {
    local want=$1
    shift
    set +e
    "$@" > "$TMP/out" 2> "$TMP/err"
    local rc=$?
    set -e
    [[ $rc -eq 2 ]] || { cat "$TMP/err"; fail "exit $rc, want 2: $*"; }
    grep -qF -- "$want" "$TMP/err" || { cat "$TMP/err"; fail "stderr lacks \"$want\": $*"; }
}

# ------------------------------------------------------------------ bad input
printf '{"title": "Broken",\n  "content": {"Age": {"18-34": "50%%",, "35+": "50%%"}}}\n' > "$TMP/broken.json"
expect_usage "$TMP/broken.json:2:" "$COORD" factory --count 3 --population "$TMP/broken.json" --out "$TMP/x1"
expect_usage "--count: expected 1..100000" "$COORD" factory --count 0 --context people --out "$TMP/x2"
expect_usage "--count: expected 1..100000" "$COORD" factory --count 100001 --context people --out "$TMP/x3"
expect_usage "--count: expected 1..100000" "$COORD" factory --count many --context people --out "$TMP/x4"
expect_usage "--out DIR is required" "$COORD" factory --count 3 --context people
expect_usage "give --context TEXT, --population FILE or both" "$COORD" factory --count 3 \
    --out "$TMP/x5"
expect_usage "no-such.json" "$COORD" factory --count 3 --population "$TMP/no-such.json" --out "$TMP/x6"
for d in x1 x2 x3 x4 x5 x6; do [[ ! -e $TMP/$d ]] || fail "bad input wrote $TMP/$d"; done
mkdir -p "$TMP/busy" && echo hello > "$TMP/busy/notes.txt"
expect_usage "use --force" "$COORD" factory --count 3 --context people --out "$TMP/busy"
expect_usage "no run here" "$COORD" extract "$TMP/busy" --objective x
pass "bad input: exit 2, file:line:col, nothing written"

# ------------------------------------------------------------------ offline
"$COORD" factory --count 25 --population "$POP/rural_saskatchewan.json" --seed 3 \
    --out "$TMP/rural" 2> "$TMP/rural.err"
assert_contains "$TMP/rural.err" "offline model"
[[ $(ls "$TMP/rural"/*.agent.json | wc -l) -eq 25 ]] || fail "want 25 agent files"
python3 - "$TMP/rural" <<'EOF' || fail "factory.json or the agent files are wrong"
import json, os, sys
d = sys.argv[1]
f = json.load(open(os.path.join(d, "factory.json")))
assert f["written"] == 25 and f["failed"] == 0 and f["offline"] is True, f
assert sum(r["quantity"] for r in f["plan"]) == 25
names = [p["name"] for p in f["people"]]
assert len({n.lower() for n in names}) == 25, names
for p in f["people"]:
    spec = json.load(open(os.path.join(d, p["file"])))
    assert spec["type"] == "TinyPerson" and spec["persona"]["name"] == p["name"]
    for k in ("age", "occupation", "personality", "preferences", "beliefs", "behaviors"):
        assert k in spec["persona"], k
EOF
[[ $(stats "$TMP/rural/factory.tlog" factory_calls) -eq 26 ]] || fail "want 26 factory calls"
[[ $(stats "$TMP/rural/factory.tlog" provider) == offline ]] || fail "provider in log stats"
"$COORD" log verify "$TMP/rural/factory.tlog" > /dev/null || fail "factory.tlog does not verify"
pass "offline: 25 people, unique names, plan sums to 25, factory.tlog sound"

# ------------------------------------------------------------------ fakellm + replay
start_fakellm
export OPENAI_BASE_URL=$FAKE_URL/v1
"$COORD" factory --count 12 --context "Retired people in Porto, Portugal" --llm openai \
    --concurrency 6 --out "$TMP/a" --quiet
made=$(fake_stat requests)
[[ $made -ge 14 ]] || fail "the first generation made only $made requests"
[[ $(stats "$TMP/a/factory.tlog" llm_calls) -eq 14 ]] || fail "llm_calls in factory.tlog"
"$COORD" factory --count 12 --context "Retired people in Porto, Portugal" --llm openai \
    --concurrency 6 --out "$TMP/b" --replay "$TMP/a" --quiet
[[ $(fake_stat requests) -eq $made ]] || fail "replay made $(( $(fake_stat requests) - made )) requests"
[[ $(stats "$TMP/b/factory.tlog" llm_calls) -eq 0 ]] || fail "replay: llm_calls != 0"
[[ $(stats "$TMP/b/factory.tlog" llm_replayed) -eq 14 ]] || fail "replay: llm_replayed != 14"
for f in "$TMP/a"/*.agent.json; do
    cmp -s "$f" "$TMP/b/$(basename "$f")" || fail "replay: $(basename "$f") differs"
done
[[ $(ls "$TMP/b"/*.agent.json | wc -l) -eq 12 ]] || fail "replay: want 12 files"
"$COORD" log diff "$TMP/a/factory.tlog" "$TMP/b/factory.tlog" > "$TMP/diff" || fail "log diff"
assert_contains "$TMP/diff" "identical"
# the log itself can be named, and a different seed is a different generation
"$COORD" factory --count 12 --context "Retired people in Porto, Portugal" --llm openai \
    --out "$TMP/c" --replay "$TMP/a/factory.tlog" --seed 43 --quiet
[[ $(fake_stat requests) -gt $made ]] || fail "another seed should call the model"
pass "fakellm: replay regenerates identical files with zero requests"

# ------------------------------------------------------------------ extraction
unset OPENAI_BASE_URL
"$COORD" run "$SRC/examples/scenarios/market_research.json" --out "$TMP/mr" --quiet
# the scenario's factory section made its six people in DIR/factory ...
[[ $(ls "$TMP/mr/factory"/*.agent.json | wc -l) -eq 6 ]] || fail "run: want 6 generated people"
[[ $(stats "$TMP/mr/sim.tlog" agents) -eq 6 ]] || fail "run: the generated people are not the agents"
cp "$TMP/mr/factory/factory.json" "$TMP/mr-factory.json"
# ... which a --resume keeps, and a --replay of the run makes again without the model
"$COORD" run "$SRC/examples/scenarios/market_research.json" --out "$TMP/mr" --resume --quiet
cmp -s "$TMP/mr/factory/factory.json" "$TMP/mr-factory.json" || fail "resume remade the people"
"$COORD" run "$SRC/examples/scenarios/market_research.json" --out "$TMP/mr2" --quiet \
    --replay "$TMP/mr/sim.tlog"
[[ $(stats "$TMP/mr2/factory/factory.tlog" llm_replayed) -eq 7 ]] || fail "run replay: factory calls"
"$COORD" log diff "$TMP/mr/sim.tlog" "$TMP/mr2/sim.tlog" > "$TMP/diff" || fail "run replay diverged"
pass "run: a scenario's factory section makes its people; resume keeps them; replay remakes them"
"$COORD" extract "$TMP/mr" 2> "$TMP/extract.err" || { cat "$TMP/extract.err"; fail "extract"; }
check_extraction() {
    python3 - "$1" <<'EOF' || fail "extraction.json and extraction.csv disagree"
import csv, io, json, os, sys
d = sys.argv[1]
doc = json.load(open(os.path.join(d, "extraction.json")))
raw = open(os.path.join(d, "extraction.csv"), newline="").read()
assert raw.endswith("\r\n")
records = list(csv.reader(io.StringIO(raw, newline="")))
cols, rows = doc["table"]["columns"], doc["table"]["rows"]
assert records[0] == cols, (records[0], cols)
for want in ("name", "opinion", "would_buy", "likelihood", "talks", "last_words"):
    assert want in cols, want
def text(v):
    if v is None: return ""
    if isinstance(v, str): return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
assert len(records) == len(rows) + 1
for rec, row in zip(records[1:], rows):
    assert rec == [text(v) for v in row], (rec, row)
    ex = doc["agent_extractions"][row[0]]
    for c, v in zip(cols, row):
        if c in ex: assert ex[c] == v, (c, ex[c], v)
    assert ex["would_buy"] in ("yes", "no"), ex
assert len(rows) == 6
EOF
}
check_extraction "$TMP/mr"
start=$(fake_stat requests)
export OPENAI_BASE_URL=$FAKE_URL/v1
"$COORD" extract "$TMP/mr" --llm openai --quiet
made=$(( $(fake_stat requests) - start ))
[[ $made -eq 6 ]] || fail "extraction: want 6 requests, got $made"
cp "$TMP/mr/extraction.json" "$TMP/first.json"
"$COORD" extract "$TMP/mr" --llm openai --quiet --replay "$TMP/mr"
[[ $(( $(fake_stat requests) - start )) -eq 6 ]] || fail "extraction replay made requests"
[[ $(stats "$TMP/mr/extraction.tlog" llm_replayed) -eq 6 ]] || fail "extraction: llm_replayed"
python3 -c "
import json,sys
a, b = (json.load(open(p))['table'] for p in sys.argv[1:])
assert a == b" "$TMP/first.json" "$TMP/mr/extraction.json" || fail "replayed extraction differs"
check_extraction "$TMP/mr"
pass "extraction: JSON and CSV agree; replay makes zero requests"
