#!/usr/bin/env bash
# TinyTroupe's tools for trusting a simulation, as coordinator subcommands over
# real runs with the offline model: a validation with a planted mismatch scores
# low, a proposition true of one run is false of another, each rerun from its
# recorded log makes no model call; stats agree with SciPy, find a planted
# treatment effect and no effect in an A/A experiment; empirical validation
# against a small CSV; bad input is "file:line:col: ..." with exit 2.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
export COORD
$PY -c "import scipy" 2>/dev/null || fail "python3-scipy is missing (scripts/deps.sh --test installs it)"
export TROUPE_LLM=offline
"$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$TMP/fg" --quiet 2>/dev/null
"$COORD" run "$SRC/examples/scenarios/market_research.json" --out "$TMP/mr" --quiet 2>/dev/null
json() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# --- validation: the person's own traits score high, a planted mismatch low
"$COORD" validate "$TMP/fg" --agent "Lisa Carter" --quiet \
    --expectations "Lisa Carter, a data scientist who talks about ToolShare" >"$TMP/v_ok.json"
"$COORD" validate "$TMP/fg" --agent "Lisa Carter" --quiet \
    --expectations "A retired astronaut who breeds racing pigeons in Antarctica" >"$TMP/v_bad.json"
good=$(json "$TMP/v_ok.json" "d['people'][0]['score']")
bad=$(json "$TMP/v_bad.json" "d['people'][0]['score']")
$PY -c "import sys; g,b=map(float,sys.argv[1:]); assert g >= 0.5 > 0.2 >= b, (g,b)" "$good" "$bad" \
    || fail "validation: fitting expectations scored $good, the planted mismatch $bad"
[[ $(json "$TMP/v_bad.json" "d['llm']['calls']") == 1 ]] || fail "validation: one call expected"
# rerun from its log: the same answer, zero model calls
"$COORD" validate "$TMP/fg" --agent "Lisa Carter" --quiet --replay "$TMP/fg" \
    --expectations "A retired astronaut who breeds racing pigeons in Antarctica" >"$TMP/v_re.json"
[[ $(json "$TMP/v_re.json" "(d['llm']['calls'], d['llm']['replayed'])") == "(0, 1)" ]] \
    || fail "validation replay made a call: $(cat "$TMP/v_re.json")"
[[ $(json "$TMP/v_re.json" "d['people']") == "$(json "$TMP/v_bad.json" "d['people']")" ]] \
    || fail "validation replay gave another answer"
"$COORD" validate "$TMP/fg" --all --expectations "$TMP/v_ok.json" --quiet >/dev/null 2>&1 \
    || fail "validate --all with expectations from a file"
pass "validate: fit $good, planted mismatch $bad, replay with zero calls"

# --- propositions: true of the focus group's run, false of the market research's
claim="The neighbours discuss ToolShare, the tool library app, borrowing drills and ladders"
"$COORD" proposition "$TMP/fg" "$claim" --quiet >"$TMP/p_fg.json"
"$COORD" proposition "$TMP/mr" "$claim" --quiet >"$TMP/p_mr.json"
[[ $(json "$TMP/p_fg.json" "d['value']") == True ]] || fail "proposition false of the focus group"
[[ $(json "$TMP/p_mr.json" "d['value']") == False ]] || fail "proposition true of market research"
# rerun from its log (each run of a tool records what it asked, replacing the last)
"$COORD" proposition "$TMP/mr" "$claim" --quiet --replay "$TMP/mr" >"$TMP/p_re.json"
[[ $(json "$TMP/p_re.json" "(d['llm']['calls'], d['llm']['replayed'], d['value'])") == \
   "(0, 1, False)" ]] || fail "proposition replay: $(cat "$TMP/p_re.json")"
"$COORD" proposition "$TMP/fg" "$claim" --score --quiet >"$TMP/s_fg.json"
"$COORD" proposition "$TMP/mr" "$claim" --score --quiet >"$TMP/s_mr.json"
$PY -c "import sys; a,b=map(int,sys.argv[1:]); assert 0 <= b < a <= 9, (a,b)" \
    "$(json "$TMP/s_fg.json" "d['value']")" "$(json "$TMP/s_mr.json" "d['value']")" \
    || fail "proposition scores do not order the runs"
"$COORD" proposition "$TMP/fg" "$claim" --steps 2: --agent "Lisa Carter" --quiet >"$TMP/p_st.json"
[[ $(json "$TMP/p_st.json" "(d['steps'], d['agent'])") == "([2, None], 'Lisa Carter')" ]] \
    || fail "proposition --steps: $(cat "$TMP/p_st.json")"
"$COORD" proposition "$TMP/fg" "$claim" --steps 99:100 --agent "Lisa Carter" \
    --quiet >"$TMP/p_none.json"
[[ $(json "$TMP/p_none.json" "d['value']") == False ]] || fail "a claim about no steps held"
pass "proposition: true of one run, false of another, scored, replayed with zero calls"

# --- stats: SciPy's numbers; a planted effect found, an A/A experiment not
$PY - "$TMP" <<'PY'
import csv, random, sys
tmp = sys.argv[1]
rng = random.Random(22)
def table(path, values, labels):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "willingness", "answer"])
        for i, (v, l) in enumerate(zip(values, labels)):
            w.writerow(["p%d" % i, v, l])
control = [round(rng.gauss(5, 1.5), 2) for _ in range(40)]
treated = [round(rng.gauss(6.5, 1.5), 2) for _ in range(40)]
again = [round(rng.gauss(5, 1.5), 2) for _ in range(40)]
yes = lambda p: ["yes" if rng.random() < p else "no" for _ in range(40)]
table(tmp + "/a.csv", control, yes(0.3))
table(tmp + "/b.csv", treated, yes(0.8))
table(tmp + "/a2.csv", again, yes(0.3))
PY
"$COORD" stats "$TMP/a.csv" "$TMP/b.csv" --column willingness --out "$TMP/ab.json"
"$COORD" stats "$TMP/a.csv" "$TMP/a2.csv" --column willingness >"$TMP/aa.json"
"$COORD" stats "$TMP/a.csv" "$TMP/b.csv" --column answer >"$TMP/ab_cat.json"
"$COORD" stats "$TMP/a.csv" "$TMP/a2.csv" --column answer >"$TMP/aa_cat.json"
$PY - "$TMP" <<'PY'
import csv, json, sys
from scipy import stats
tmp = sys.argv[1]
col = lambda f, c: [r[c] for r in csv.DictReader(open(tmp + "/" + f))]
num = lambda f: [float(v) for v in col(f, "willingness")]
def close(x, y, what):
    assert abs(x - y) <= 1e-6 * max(1.0, abs(y)), (what, x, y)
for pair, doc in (("b.csv", "ab.json"), ("a2.csv", "aa.json")):
    a, b = num("a.csv"), num(pair)
    t = json.load(open(tmp + "/" + doc))["tests"]
    ref = stats.ttest_ind(a, b, equal_var=False)
    close(t["welch_t"]["statistic"], ref.statistic, "t"); close(t["welch_t"]["p_value"], ref.pvalue, "t p")
    ref = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    close(t["mann_whitney_u"]["statistic"], ref.statistic, "U"); close(t["mann_whitney_u"]["p_value"], ref.pvalue, "U p")
    ref = stats.ks_2samp(a, b, method="exact")
    close(t["ks"]["statistic"], ref.statistic, "D"); close(t["ks"]["p_value"], ref.pvalue, "D p")
for pair, doc in (("b.csv", "ab_cat.json"), ("a2.csv", "aa_cat.json")):
    a, b = col("a.csv", "answer"), col(pair, "answer")
    cats = sorted(set(a + b))
    chi2, p, dof, _ = stats.chi2_contingency([[a.count(c) for c in cats], [b.count(c) for c in cats]])
    t = json.load(open(tmp + "/" + doc))["tests"]["chi_square"]
    close(t["statistic"], chi2, "chi2"); close(t["p_value"], p, "chi2 p"); close(t["df"], dof, "dof")
ab, aa = json.load(open(tmp + "/ab.json"))["tests"], json.load(open(tmp + "/aa.json"))["tests"]
for name in ("welch_t", "mann_whitney_u", "ks"):
    assert ab[name]["p_value"] < 0.05 and ab[name]["significant"], ("A/B missed", name, ab[name])
    assert aa[name]["p_value"] >= 0.05 and not aa[name]["significant"], ("A/A found", name, aa[name])
assert json.load(open(tmp + "/ab_cat.json"))["tests"]["chi_square"]["p_value"] < 0.05
assert json.load(open(tmp + "/aa_cat.json"))["tests"]["chi_square"]["p_value"] >= 0.05
print("ok: stats agree with SciPy; the planted effect found, the A/A experiment clean")
PY

# --- empirical validation: simulated answers (extraction.csv) against real ones
"$COORD" extract "$TMP/fg" --objective "Would each person use the app?" --fields use --quiet
printf 'respondent,use\nr1,yes\nr2,no\nr3,yes\nr4,"yes"\nr5,no\n' >"$TMP/real.csv"
"$COORD" empirical "$TMP/fg" "$TMP/real.csv" --column use >"$TMP/emp.json"
$PY - "$TMP/emp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "SimulationExperimentEmpiricalValidator", d
assert d["real"]["n"] == 5 and d["real"]["counts"] == {"yes": 3, "no": 2}, d["real"]
assert d["simulated"]["n"] >= 1, d["simulated"]
assert 0 <= d["total_variation_distance"] <= 1, d
print("ok: empirical validation, total variation distance %.3f" % d["total_variation_distance"])
PY

# --- bad input: where it is wrong, exit 2
printf 'name,willingness\np1,"3\n' >"$TMP/broken.csv"
set +e
"$COORD" stats "$TMP/a.csv" "$TMP/broken.csv" --column willingness 2>"$TMP/err1"; rc1=$?
"$COORD" stats "$TMP/a.csv" "$TMP/a2.csv" --column nosuch 2>"$TMP/err2"; rc2=$?
"$COORD" validate "$TMP/fg" --agent Nobody --expectations x --quiet 2>"$TMP/err3"; rc3=$?
"$COORD" proposition "$TMP/fg" "x" --steps 3:1 2>"$TMP/err4"; rc4=$?
"$COORD" validate "$TMP/nothing" --all --expectations x --quiet 2>"$TMP/err5"; rc5=$?
set -e
[[ "$rc1 $rc2 $rc3 $rc4 $rc5" == "2 2 2 2 2" ]] || fail "bad input exits: $rc1 $rc2 $rc3 $rc4 $rc5"
assert_contains "$TMP/err1" "broken.csv:2:4: unterminated quoted field"
assert_contains "$TMP/err2" "a.csv:1:1: no column \"nosuch\""
assert_contains "$TMP/err3" "no agent \"Nobody\""
pass "bad input: file:line:col and exit 2"

# --- a story begun and continued twice, each part recorded; a rerun makes no call
purpose="Find out whether neighbours would share their tools"
"$COORD" story "$TMP/fg" --purpose "$purpose" --out "$TMP/s1.txt" --quiet >"$TMP/part1"
"$COORD" story "$TMP/fg" --purpose "$purpose" --continue "$TMP/s1.txt" --out "$TMP/s2.txt" --quiet >/dev/null
"$COORD" story "$TMP/fg" --purpose "$purpose" --continue "$TMP/s2.txt" --out "$TMP/s3.txt" \
    --agent "Lisa Carter" --quiet >"$TMP/part3"
[[ -s "$TMP/part1" && -s "$TMP/part3" ]] || fail "story: no text"
$PY - "$TMP" <<'PY' || fail "story: each part does not extend the last"
import sys
t = sys.argv[1]
s1, s2, s3 = (open("%s/s%d.txt" % (t, i)).read() for i in (1, 2, 3))
assert s1.strip() and s2.startswith(s1) and s3.startswith(s2), (s1, s2, s3)
assert len(s1) < len(s2) < len(s3)
assert s3.rstrip().endswith(open(t + "/part3").read().strip())
PY
"$COORD" story "$TMP/fg" --purpose "$purpose" --continue "$TMP/s2.txt" --out "$TMP/s3b.txt" \
    --agent "Lisa Carter" --replay "$TMP/s3.txt.tlog" 2>"$TMP/story_err" >/dev/null
assert_contains "$TMP/story_err" "0 model call(s), 1 replayed"
cmp -s "$TMP/s3.txt" "$TMP/s3b.txt" || fail "story: the replayed continuation differs"
set +e
"$COORD" story "$TMP/fg" --purpose "$purpose" --continue "$TMP/none.txt" --out "$TMP/x" 2>"$TMP/err6"; rc6=$?
set -e
[[ $rc6 == 2 ]] || fail "story with a missing --continue file exited $rc6"
assert_contains "$TMP/err6" "none.txt:1:1:"
pass "story: begun, continued twice, replayed with zero calls"

# --- the story as a .docx (ArtifactExporter) that python3-docx opens with the right text
$PY -c "import docx" 2>/dev/null || fail "python3-docx is missing (scripts/deps.sh --test installs it)"
printf '%s\n' 'Tom & Ana say "<hello>" in café' >>"$TMP/s3.txt"
"$COORD" export "$TMP/s3.txt" --out "$TMP/story.docx" --title "ToolShare: a story"
$PY - "$TMP" <<'PY' || fail "the .docx does not hold the story"
import sys, docx
t = sys.argv[1]
got = [p.text for p in docx.Document(t + "/story.docx").paragraphs]
want = ["ToolShare: a story"] + [l for l in open(t + "/s3.txt").read().split("\n") if l]
assert got == want, (got, want)
PY
set +e
"$COORD" export "$TMP/none.txt" --out "$TMP/x.docx" 2>"$TMP/err7"; rc7=$?
set -e
[[ $rc7 == 2 && ! -e "$TMP/x.docx" ]] || fail "export of a missing file exited $rc7"
assert_contains "$TMP/err7" "none.txt:1:1:"
pass "export: a .docx that python3-docx reads back"

# --- enrich, style, normalise a text: one recorded call each, replayed for free
printf 'Meeting notes: ship ToolShare in May.\n' >"$TMP/notes.txt"
for task in enrich style normalize; do
    "$COORD" rewrite $task "$TMP/notes.txt" --out "$TMP/$task.txt" --style "formal" --quiet
    grep -qF "ship ToolShare in May" "$TMP/$task.txt" || fail "$task lost the text"
    "$COORD" rewrite $task "$TMP/notes.txt" --out "$TMP/$task.again" --style "formal" \
        --replay "$TMP/$task.txt.tlog" 2>"$TMP/rw_err"
    assert_contains "$TMP/rw_err" "0 model call(s), 1 replayed"
    cmp -s "$TMP/$task.txt" "$TMP/$task.again" || fail "$task: the replay differs"
done
set +e
"$COORD" rewrite shout "$TMP/notes.txt" --out "$TMP/x" 2>/dev/null; rc8=$?
: >"$TMP/empty.txt"
"$COORD" rewrite enrich "$TMP/empty.txt" --out "$TMP/x" 2>"$TMP/err9"; rc9=$?
set -e
[[ "$rc8 $rc9" == "2 2" ]] || fail "rewrite bad input exits: $rc8 $rc9"
assert_contains "$TMP/err9" "empty.txt:1:1: expected some text"
pass "rewrite: enrich, style, normalize, each replayed with zero calls"

# --- ABRandomizer: seeded, balanced, the same groups for the same seed
"$COORD" assign "$TMP/mr" --seed 7 >"$TMP/as1.json"
"$COORD" assign "$TMP/mr" --seed 7 >"$TMP/as2.json"
cmp -s "$TMP/as1.json" "$TMP/as2.json" || fail "assign: the same seed gave other groups"
$PY - "$TMP" <<'PY' || fail "assign: groups are not a balanced partition"
import json, subprocess, sys
t = sys.argv[1]
g = json.load(open(t + "/as1.json"))["groups"]
people = sum(g.values(), [])
assert len(people) == len(set(people)) == 6 and sorted(map(len, g.values())) == [3, 3], g
seeds = {json.dumps(json.loads(subprocess.check_output(
    [__import__("os").environ["COORD"], "assign", "--names", "a,b,c,d,e,f,g,h",
     "--seed", str(s)]))["groups"], sort_keys=True) for s in range(6)}
assert len(seeds) > 1, "every seed gave the same groups"
PY
pass "assign: seeded, balanced, reproducible"

# --- against fakellm over HTTP: the mismatch still scores low, and a replay sends no request
start_fakellm
(
    export OPENAI_BASE_URL=$FAKE_URL/v1 OPENAI_API_KEY=test-key
    unset TROUPE_LLM
    exp="A retired astronaut who breeds racing pigeons in Antarctica"
    "$COORD" validate "$TMP/fg" --agent "Lisa Carter" --expectations "$exp" --llm openai \
        --quiet >"$TMP/fk_v.json"
    [[ $(json "$TMP/fk_v.json" "d['people'][0]['score'] <= 0.2 and not d['llm']['offline']") == \
       True ]] || fail "fakellm validation: $(cat "$TMP/fk_v.json")"
    before=$(fake_stat requests)
    "$COORD" validate "$TMP/fg" --agent "Lisa Carter" --expectations "$exp" --llm openai \
        --quiet --replay "$TMP/fg" >"$TMP/fk_re.json"
    [[ $(fake_stat requests) == "$before" ]] || fail "the replayed validation sent a request"
    [[ $(json "$TMP/fk_re.json" "d['llm']['replayed']") == 1 ]] || fail "fakellm replay"
)
pass "validate against fakellm: low score for the mismatch, replay sends no request"
