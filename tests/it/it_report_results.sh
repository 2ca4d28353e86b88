#!/usr/bin/env bash
# What the people concluded, in a real browser. The market-research example
# runs twice with the offline model (run B's step-2 question no longer says
# "price"), and `coordinator extract` writes each run's extraction.json. Then
# headless Chromium checks what the page drew:
#   - results sliced by a persona field (#slice=persona.gender): per gender,
#     the counts of would_buy and the n/mean/min/max of likelihood are those
#     of extraction.json; every agent's quotes are its TALK and THINK actions;
#   - every table has a CSV button; pressed, answers.csv and the would_buy
#     counts are extraction.json's;
#   - deep links: #step-3 opens step 3, #agent=NAME opens that agent;
#   - two runs side by side: the divergence `log diff` names, and the planted
#     difference (price_mentions) in the results, marked as differing;
#   - the conversation graph of a 1,000-agent run (--slots 250, 1 step, with
#     its 1,000 answers extracted) is drawn (after the results; how soon is
#     printed, not asserted: speed is for benchmarks, and a busy machine took
#     3.3 s), its pairs those of the log; the same page sliced by
#     a persona field shows, per group, the counts of extraction.json;
#   - a world extraction (`extract --world`) goes to world-extraction.json
#     beside the agents' extraction.json, and the page shows both.
# Chromium runs as in it_report.sh: off the network, a throwaway profile.
source "$(dirname "$0")/lib.sh"
CHROMIUM=${TT_CHROMIUM:-/usr/bin/chromium}

# Two runs of one scenario; B's question at step 2 is planted differently.
python3 - "$SRC" "$TMP" <<'PY'
import json, sys
src, tmp = sys.argv[1], sys.argv[2]
s = json.load(open(src + "/examples/scenarios/market_research.json"))
s["factory"]["population"] = src + "/examples/populations/halifax.json"
s["factory"]["count"] = 12  # enough people for both genders to be sampled
json.dump(s, open(tmp + "/a.json", "w"))
s["events"][1]["broadcast"] = "It would cost 32 dollars a week for two. Does that sound fair?"
json.dump(s, open(tmp + "/b.json", "w"))
PY
for r in a b; do
    "$COORD" run "$TMP/$r.json" --out "$TMP/$r" --quiet >/dev/null 2>"$TMP/run-$r.err" \
        || { cat "$TMP/run-$r.err"; fail "coordinator run $r exited $?"; }
    "$COORD" extract "$TMP/$r" >/dev/null 2>"$TMP/extract-$r.err" \
        || { cat "$TMP/extract-$r.err"; fail "coordinator extract $r exited $?"; }
done
cp "$TMP/a/extraction.json" "$TMP/a-agents.json"
"$COORD" extract "$TMP/a" --world --objective "What did the group conclude?" --fields verdict \
    >/dev/null 2>"$TMP/extract-world.err" || { cat "$TMP/extract-world.err"; fail "extract --world $?"; }
cmp -s "$TMP/a/extraction.json" "$TMP/a-agents.json" || fail "extract --world changed extraction.json"
for f in world-extraction.json world-extraction.csv world-extraction.tlog; do
    [[ -s $TMP/a/$f ]] || fail "extract --world wrote no $f"
done
pass "a world extraction goes beside the agents' (world-extraction.*), which stay"

ONE=$TMP/one.html
TWO=$TMP/two.html
"$COORD" log report "$TMP/a/sim.tlog" --html "$ONE" || fail "log report (one run) exited $?"
"$COORD" log report "$TMP/a/sim.tlog" --html "$TMP/given.html" \
    --extraction "$TMP/a/extraction.json" || fail "log report --extraction exited $?"
echo '{"not": "an extraction"}' >"$TMP/bad.json"
rc=0
"$COORD" log report "$TMP/a/sim.tlog" --html "$TMP/bad.html" --extraction "$TMP/bad.json" \
    2>"$TMP/bad.err" || rc=$?
[[ $rc == 2 && ! -e $TMP/bad.html ]] || fail "a bad --extraction: exit $rc, want 2 and no page"
assert_contains "$TMP/bad.err" "not an extraction"
"$COORD" log report "$TMP/a/sim.tlog" "$TMP/b/sim.tlog" --html "$TWO" \
    || fail "log report (two runs) exited $?"
"$COORD" log diff "$TMP/a/sim.tlog" "$TMP/b/sim.tlog" >"$TMP/diff.txt" && fail "the runs are equal"
grep -qiE '(src|href)=["'\'']?https?:|<link|@import' "$ONE" "$TWO" && fail "a page refers to the network"
pass "reports written: one run, the same with --extraction, two runs"

# 1,000 agents, one step: the conversation graph's run.
python3 - "$SRC" "$TMP/big.json" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
json.dump({"name": "Town hall", "seed": 3,
           "world": {"name": "Hall", "start": "2026-03-01T09:00:00", "step": "PT10M",
                     "mode": "parallel", "accessibility": "everyone"},
           "agents": [{"file": src + "/examples/agents/lisa_carter.agent.json", "count": 500},
                      {"file": src + "/examples/agents/oscar_ramos.agent.json", "count": 500}],
           "events": [{"step": 1, "source": "Mayor",
                       "broadcast": "Should the town build a new library? Tell a neighbour."}],
           "steps": 1}, open(out, "w"))
PY
"$COORD" run "$TMP/big.json" --out "$TMP/big" --slots 250 --quiet >/dev/null 2>"$TMP/big.err" \
    || { tail -5 "$TMP/big.err"; fail "the 1,000-agent run exited $?"; }
"$COORD" extract "$TMP/big" --objective "Would they support a new library?" --fields support \
    >/dev/null 2>"$TMP/extract-big.err" || { cat "$TMP/extract-big.err"; fail "extract (big) $?"; }
BIG=$TMP/big.html
"$COORD" log report "$TMP/big/sim.tlog" --html "$BIG" || fail "log report (1,000 agents) exited $?"
# The persona field the big page is sliced by: one with two values (the two specs differ in it).
BIG_SLICE=$(python3 - "$TMP/big/extraction.json" <<'PY'
import json, sys
x = json.load(open(sys.argv[1]))
cols, rows = x["table"]["columns"], x["table"]["rows"]
two = [c for i, c in enumerate(cols)
       if c.startswith("persona.") and len({str(r[i]) for r in rows}) == 2]
print(two[0] if two else "")
PY
)
[[ -n $BIG_SLICE ]] || fail "no persona field of two values in the 1,000-agent extraction"
pass "1,000-agent run and its report: $(wc -c <"$BIG") bytes"

if [[ "${TT_SKIP_BROWSER:-}" == 1 ]]; then
    echo "SKIP: browser checks (TT_SKIP_BROWSER=1)"
    exit 0
fi
[[ -x $CHROMIUM ]] || fail "chromium is not installed ($CHROMIUM): install Debian's chromium \
package (scripts/deps.sh --test does), or set TT_SKIP_BROWSER=1 to skip the browser checks"

# dom URL OUT: the DOM of URL after its scripts ran, with no script error.
dom() {
    local err=$2.err
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$TMP/profile-XXXXXX")" --virtual-time-budget=5000 \
        --enable-logging=stderr --v=0 --dump-dom "$1" >"$2" 2>"$err" \
        || { tail -20 "$err"; fail "chromium --dump-dom $1 exited $?"; }
    [[ -s $2 ]] || fail "chromium dumped no DOM for $1"
    if grep -E 'Uncaught|Refused to' "$err"; then
        fail "$1: the page logged a script error or a refused load"
    fi
}

dom "file://$ONE#slice=persona.gender" "$TMP/sliced.html"
dom "file://$ONE#step-3" "$TMP/step3.html"
AGENT=$(python3 -c "import json,sys; print(sorted(json.load(open(sys.argv[1]))\
['agent_extractions'])[1])" "$TMP/a/extraction.json")
dom "file://$ONE#agent=$(python3 -c "import sys,urllib.parse as u; print(u.quote(sys.argv[1]))" \
    "$AGENT")" "$TMP/agent.html"
dom "file://$TWO" "$TMP/two.dom.html"
# The CSV buttons, pressed: a copy of the page whose last script catches the
# files they make (the Blob) instead of downloading them.
python3 - "$ONE" "$TMP/csv.html" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
catch = """<script>
(() => {
  const out = document.createElement('pre');
  out.id = 'csv-out';
  document.body.append(out);
  URL.createObjectURL = (blob) => {
    blob.text().then((t) => out.append(document.createTextNode('=====' + t)));
    return 'about:blank';
  };
  HTMLAnchorElement.prototype.click = function () { out.setAttribute('data-files',
    (out.getAttribute('data-files') || '') + this.download + ';'); };
  for (const name of ['answers', 'results-would_buy'])
    document.querySelector('button.csv[data-csv-for="' + name + '"]').click();
})();
</script>
"""
i = page.rindex("</body>")
open(sys.argv[2], "w", encoding="utf-8").write(page[:i] + catch + page[i:])
PY
dom "file://$TMP/csv.html" "$TMP/csv.dom.html"
start=$(date +%s%N)
dom "file://$BIG#graph" "$TMP/big.dom.html"
echo "1,000-agent page: chromium start, load and dump in $((($(date +%s%N) - start) / 1000000)) ms"
dom "file://$BIG#slice=$BIG_SLICE" "$TMP/big-sliced.html"

"$COORD" log dump "$TMP/a/sim.tlog" >"$TMP/a.jsonl"
"$COORD" log dump "$TMP/big/sim.tlog" >"$TMP/big.jsonl"
python3 - "$TMP" "$AGENT" "$BIG_SLICE" <<'PY'
import html, json, re, statistics, sys
from collections import Counter

tmp, agent, big_slice = sys.argv[1], sys.argv[2], sys.argv[3]
read = lambda name: open(f"{tmp}/{name}", encoding="utf-8").read()
unesc = html.unescape

def need(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)

def table(dom, field, cls=None):
    m = re.search(r'<table class="data-table%s"[^>]*data-field="%s"[^>]*>(.*?)</table>'
                  % (" " + cls if cls else "", re.escape(field)), dom, re.S)
    need(m, f"no table for {field}")
    return m.group(0)

# --- results, sliced by gender, against extraction.json ---------------------
x = json.load(open(f"{tmp}/a/extraction.json"))
cols = x["table"]["columns"]
rows = [dict(zip(cols, r)) for r in x["table"]["rows"]]
dom = read("sliced.html")
need('<section id="results"' in dom and 'id="results" class="card results" aria-labelledby='
     '"results-title" hidden' not in dom, "the results section is not shown")
need(re.search(r'<option value="persona.gender" selected', dom) or
     re.search(r'<select id="slice">', dom), "no slice select")
genders = sorted({r["persona.gender"] for r in rows})
need(len(genders) >= 2, f"the run has one gender only: {genders}")

t = table(dom, "would_buy")
need('data-slice="persona.gender"' in t, "would_buy is not sliced by persona.gender")
for g in genders:
    tr = re.search(r'<tr data-group="%s">(.*?)</tr>' % re.escape(g), t, re.S)
    need(tr, f"would_buy has no row for {g}")
    shown = {unesc(c): int(n) for c, n in re.findall(r'data-cat="([^"]*)">(\d+)<', tr.group(1))}
    want = Counter(str(r["would_buy"]) for r in rows if r["persona.gender"] == g)
    need({k: v for k, v in shown.items() if v} == dict(want),
         f"would_buy for {g}: page {shown}, extraction.json {dict(want)}")

t = table(dom, "likelihood")
for g in genders + ["everyone"]:
    tr = re.search(r'<tr data-group="%s">(.*?)</tr>' % re.escape(g), t, re.S)
    need(tr, f"likelihood has no row for {g}")
    shown = dict(re.findall(r'data-stat="(\w+)">([^<]*)<', tr.group(1)))
    xs = [r["likelihood"] for r in rows if g == "everyone" or r["persona.gender"] == g]
    need(int(shown["n"]) == len(xs) and abs(float(shown["mean"]) - statistics.mean(xs)) < 0.01
         and float(shown["min"]) == min(xs) and float(shown["max"]) == max(xs),
         f"likelihood for {g}: page {shown}, extraction.json {xs}")
for chart in ("result-would_buy", "result-likelihood"):
    svg = re.search(r'<svg [^>]*data-chart="%s".*?</svg>' % chart, dom, re.S)
    need(svg and svg.group(0).count("<rect") >= 2, f"chart {chart} has no bars")

# Quotes: as many as the agent's TALK and THINK actions in the log.
begin = None
quotes = Counter()
for line in open(f"{tmp}/a.jsonl"):
    rec = json.loads(line)
    body = rec["body"]
    if "begin" in body and begin is None:
        begin = [a["name"] for a in body["begin"]["agents"]]
    for a in body.get("step", {}).get("agents", []):
        for act in a.get("actions", []):
            if act["type"] in ("TALK", "THINK"):
                quotes[begin[a.get("agent", 0)]] += 1
answers = re.search(r'<table class="data-table answers".*?</table>', dom, re.S).group(0)
for r in rows:
    tr = re.search(r'<tr data-agent="%s">(.*?)</tr>' % re.escape(html.escape(r["name"])),
                   answers, re.S)
    need(tr, f"{r['name']} has no row of answers")
    n = re.search(r'class="link quotes-btn"[^>]*>(\d+) quotes?<', tr.group(1))
    need(n and int(n.group(1)) == quotes[r["name"]] > 0,
         f"{r['name']}: {n and n.group(1)} quotes shown, {quotes[r['name']]} in the log")

# CSV on every table, here and in the two-run page.
for name in ("sliced.html", "two.dom.html", "big.dom.html"):
    d = read(name)
    need(d.count("<table") == len(re.findall(r'class="btn csv"', d)) > 0,
         f"{name}: {d.count('<table')} tables, {len(re.findall('class=.btn csv.', d))} CSV buttons")

# What the CSV buttons download: the answers as extraction.json has them.
import csv, io
d = read("csv.dom.html")
m = re.search(r'<pre id="csv-out" data-files="([^"]*)">(.*?)</pre>', d, re.S)
need(m, "pressing the CSV buttons made no file")
need(m.group(1) == "answers.csv;results-would_buy.csv;", f"CSV files named {m.group(1)}")
files = [f.lstrip("\ufeff") for f in unesc(m.group(2)).split("=====")[1:]]
need(len(files) == 2, f"{len(files)} CSV texts, want 2")
got = list(csv.DictReader(io.StringIO(files[0])))
need(len(got) == len(rows), f"answers.csv has {len(got)} rows, extraction.json {len(rows)}")
for g, r in zip(got, rows):
    need(g["Agent"] == r["name"] and g["would_buy"] == str(r["would_buy"]) and
         float(g["likelihood"]) == r["likelihood"] and int(g["Quotes"]) == quotes[r["name"]],
         f"answers.csv row {g} does not match extraction.json {r['name']}")
wb = list(csv.reader(io.StringIO(files[1])))
want = Counter(str(r["would_buy"]) for r in rows)
need({c: int(n) for c, n in zip(wb[0][1:], wb[1][1:])} == dict(want),
     f"results-would_buy.csv {wb}, extraction.json {dict(want)}")

# --- deep links -------------------------------------------------------------
d = read("step3.html")
m = re.search(r'<details class="step" id="step-3" data-step="3" open="">(.*?)</details>', d, re.S)
need(m and "<article" in m.group(1), "#step-3 did not open and draw step 3")
d = read("agent.html")
need(re.search(r'<section id="agent-panel"[^>]*>', d) and
     not re.search(r'<section id="agent-panel"[^>]*hidden', d), "#agent= did not open a profile")
need(f'id="agent-panel-title" tabindex="-1">{html.escape(agent, quote=False)}</h2>' in d,
     f"#agent= opened the wrong profile (want {agent})")

# --- two runs ---------------------------------------------------------------
d = read("two.dom.html")
diff = open(f"{tmp}/diff.txt").read()
content = [l for l in diff.splitlines() if l.startswith("first divergent content")]
need(content and "step 2" in content[0], f"log diff does not name step 2: {diff}")
runs = re.search(r'<table class="data-table runs".*?</table>', d, re.S)
need(runs, "no table of runs")
b = re.search(r'<tr data-run="1" class="differs">(.*?)</tr>', runs.group(0), re.S)
need(b, "run B is not marked as differing")
need(unesc(re.sub(r"<[^>]+>", "", content[0])) in unesc(re.sub(r"<[^>]+>", "", b.group(1))),
     "the page does not give log diff's words for the divergence")
need('href="#step-2"' in b.group(1), "no link to the divergent step")
xb = json.load(open(f"{tmp}/b/extraction.json"))
mean = lambda x: statistics.mean(v["price_mentions"] for v in x["reductions"].values())
t = table(d, "price_mentions", "compare-field")
tr = re.search(r'<tr class="differs" data-segment="everyone" data-stat="mean">(.*?)</tr>', t, re.S)
need(tr, "price_mentions (planted) is not marked as differing")
vals = [float(v) for v in re.findall(r'data-run="\d">([^<]*)<', tr.group(1))]
need(len(vals) == 2 and abs(vals[0] - mean(x)) < 0.01 and abs(vals[1] - mean(xb)) < 0.01
     and vals[0] != vals[1], f"price_mentions means {vals}, want {mean(x)} and {mean(xb)}")
need(re.search(r'<table class="data-table compare-types"', d), "no action counts by type")
need('data-chart="compare-types"' in d, "no chart of action counts per run")

# --- the 1,000-agent conversation graph -------------------------------------
d = read("big.dom.html")
sec = re.search(r'<section id="graph"[^>]*data-ms="(\d+)" data-at="(\d+)" data-edges="(\d+)"', d)
need(sec, "the conversation graph was not drawn")
ms, at, edges = map(int, sec.groups())
names, pairs = None, set()
for line in open(f"{tmp}/big.jsonl"):
    body = json.loads(line)["body"]
    if "begin" in body and names is None:
        names = {a["name"]: i for i, a in enumerate(body["begin"]["agents"])}
    for a in body.get("step", {}).get("agents", []):
        for act in a.get("actions", []):
            if act["type"] == "TALK" and act.get("target") in names:
                pairs.add((a.get("agent", 0), names[act["target"]]))
need(len(names) == 1000, f"{len(names)} agents, not 1,000")
need(edges == len(pairs) > 0, f"graph has {edges} pairs, the log {len(pairs)}")
heat = re.search(r'<svg [^>]*data-chart="talk-heatmap".*?</svg>', d, re.S)
need(heat and heat.group(0).count('class="heat"') > 0, "the heat-map has no cells")
need(len(re.findall(r"<tr data-edge", d)) == min(25, len(pairs)), "the table of pairs is short")
need(re.search(r'<table class="data-table" data-field="support"', d), "no results at 1,000")

# --- the 1,000 answers, sliced by a persona field ---------------------------
xbig = json.load(open(f"{tmp}/big/extraction.json"))
brows = [dict(zip(xbig["table"]["columns"], r)) for r in xbig["table"]["rows"]]
need(len(brows) == 1000, f"{len(brows)} rows in the 1,000-agent extraction")
d = read("big-sliced.html")
t = table(d, "support")
need(f'data-slice="{big_slice}"' in t, f"support is not sliced by {big_slice}")
groups = sorted({str(r[big_slice]) for r in brows})
for g in groups:
    tr = re.search(r'<tr data-group="%s">(.*?)</tr>' % re.escape(html.escape(g)), t, re.S)
    need(tr, f"support has no row for {big_slice} = {g}")
    shown = {unesc(c): int(n) for c, n in re.findall(r'data-cat="([^"]*)">(\d+)<', tr.group(1))}
    want = Counter(str(r["support"]) for r in brows if str(r[big_slice]) == g)
    need({k: v for k, v in shown.items() if v} == dict(want),
         f"support for {g}: page {shown}, extraction.json {dict(want)}")

# --- the world's answer beside the agents' ----------------------------------
w = json.load(open(f"{tmp}/a/world-extraction.json"))
need(w["scope"] == "world" and x["scope"] == "per_agent", "scopes of the two files")
d = read("sliced.html")
wt = re.search(r'<table class="data-table world-extraction".*?</table>', d, re.S)
need(wt, "the world's answer is not on the page")
need(unesc(str(w["world_extraction"]["verdict"])) in unesc(wt.group(0)),
     "the world's verdict on the page is not world-extraction.json's")
print(f"ok: sliced by gender {genders} and 1,000 answers by {big_slice} {groups}; two runs differ at step 2; graph of {edges} pairs "
      f"drawn in {ms} ms, {at} ms after the page started")
PY
pass "results, comparison, deep links, CSV and the 1,000-agent graph: drawn in a real browser"
