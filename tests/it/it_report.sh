#!/usr/bin/env bash
# The run report in a real browser: run the demo, write its report, load the
# page in headless Chromium and check what the page itself drew (not just the
# HTML we wrote): every agent of step 1 in the timeline, a TALK to someone, the
# moderator's broadcast, thoughts folded, the run's identity, charts with bars
# and lines, no script error, nothing refused by the page's no-network policy;
# then a screenshot that is a real picture.
#
# Needs chromium (Debian's package; scripts/deps.sh --test installs it). Without
# it the test fails, unless TT_SKIP_BROWSER=1, which skips the browser part.
source "$(dirname "$0")/lib.sh"
CHROMIUM=${TT_CHROMIUM:-/usr/bin/chromium}

RUN=$TMP/run
"$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$RUN" --quiet >"$TMP/run.out" \
    2>"$TMP/run.err" || { cat "$TMP/run.err"; fail "coordinator run exited $?"; }

OUT=$TMP/out
mkdir "$OUT"
PAGE=$OUT/report.html
"$COORD" log report "$RUN/sim.tlog" --html "$PAGE" 2>"$TMP/report.err" \
    || { cat "$TMP/report.err"; fail "log report exited $?"; }
[[ -s $PAGE ]] || fail "no report written"
[[ $(ls -A "$OUT") == report.html ]] || fail "log report wrote more than OUT: $(ls -A "$OUT")"
grep -qiE '(src|href)=["'\'']?https?:|<link|@import' "$PAGE" && fail "the page refers to the network"
pass "report written: $(wc -c <"$PAGE") bytes"

if [[ "${TT_SKIP_BROWSER:-}" == 1 ]]; then
    echo "SKIP: browser checks (TT_SKIP_BROWSER=1)"
    exit 0
fi
[[ -x $CHROMIUM ]] || fail "chromium is not installed ($CHROMIUM): install Debian's chromium \
package (scripts/deps.sh --test does), or set TT_SKIP_BROWSER=1 to skip the browser checks"

# One throwaway profile per run, inside $TMP so cleanup removes it.
browse() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$TMP/profile-XXXXXX")" --virtual-time-budget=5000 \
        --enable-logging=stderr --v=0 "$@" "file://$PAGE"
}

start=$(date +%s%N)
browse --dump-dom >"$TMP/dom.html" 2>"$TMP/chromium.err" \
    || { tail -20 "$TMP/chromium.err"; fail "chromium --dump-dom exited $?"; }
echo "browser load and dump: $((($(date +%s%N) - start) / 1000000)) ms"
[[ -s $TMP/dom.html ]] || fail "chromium dumped no DOM"
if grep -E 'Uncaught|Refused to' "$TMP/chromium.err"; then
    fail "the page logged a script error or a refused load"
fi

"$COORD" log stats "$RUN/sim.tlog" >"$TMP/stats.json"
"$COORD" log dump "$RUN/sim.tlog" >"$TMP/dump.jsonl"
python3 - "$TMP/dom.html" "$TMP/stats.json" "$TMP/dump.jsonl" <<'PY'
import html, json, re, sys

dom = open(sys.argv[1], encoding="utf-8").read()
stats = json.load(open(sys.argv[2]))
begin = json.loads(open(sys.argv[3]).readline())["body"]["begin"]
names = [a["name"] for a in begin["agents"]]
text = lambda s: html.unescape(re.sub(r"<[^>]+>", "", s))

def need(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)

# Step 1 is open and drawn; the other steps wait until opened.
m = re.search(r'<details class="step" id="step-1" data-step="1" open="">(.*?)</details>\s*'
              r'(?=<details class="step" id="step-2"|<p class="end-note)', dom, re.S)
need(m, "step 1 is not open and drawn")
step1 = m.group(1)
need("2026-03-01 09:10" in step1, "step 1 does not show its simulated time")
turns = re.findall(r'<article class="entry turn[^"]*" data-agent="([^"]*)">', step1)
for n in names:
    need(n in [html.unescape(t) for t in turns], f"{n} has no turn in step 1")
    need(f'>{n}</button>' in step1, f"{n} is not named in step 1")
talk = re.search(r'<li class="act talk" data-type="TALK">.*?class="arrow".*?'
                 r'<button type="button" class="who" data-a="\d+">([^<]+)</button>', step1, re.S)
need(talk and html.unescape(talk.group(1)) in names, "no TALK from one agent to another in step 1")
world = re.search(r'<article class="entry world conversation" data-kind="world">(.*?)</article>',
                  step1, re.S)
need(world, "the moderator's broadcast is not in step 1")
need("Moderator" in text(world.group(1)) and "everyone" in text(world.group(1)),
     "the broadcast does not say who said it to whom")
need("Welcome, everyone. ToolShare" in text(world.group(1)), "the broadcast text is missing")
need(re.search(r'<li class="act think" data-type="THINK"><details>', step1),
     "no folded THINK in step 1")
need(not re.search(r'<li class="act think" data-type="THINK"><details open', step1),
     "thoughts are not folded by default")
need('id="step-2"' in dom and 'id="step-2" data-step="2" open' not in dom,
     "step 2 should be there, closed")
need('<article' not in dom.split('id="step-2"', 1)[1].split('class="end-note')[0],
     "a closed step was drawn (it should wait until opened)")

# Identity.
need(stats["final_hash"] in dom, "the final hash is not shown")
need("Focus group: ToolShare" in dom, "the scenario name is not shown")
need("scripted stand-in, not an LLM" in dom, "the offline model is not called a stand-in")
need(">Complete<" in dom, "the run is not shown complete")
need(">troupe-offline<" in dom and ">42<" in dom, "model or seed missing")

# Charts: inline SVG drawn by the page, with bars and lines.
charts = re.findall(r'<svg [^>]*data-chart="([^"]+)"', dom)
need(len(charts) >= 6, f"too few charts: {charts}")
for want in ("calls-per-step", "tokens-per-step", "per-agent", "latency-histogram", "retries",
             "sources", "wall-vs-floor"):
    need(want in charts, f"chart {want} missing")
svg = "".join(re.findall(r"<svg [^>]*data-chart=.*?</svg>", dom, re.S))
need(svg.count("<rect") >= 8, "charts have no bars")
need(re.search(r'<path class="(wall|floor)" d="M', svg), "the wall-time chart has no line")

# The agent list and filters are drawn, with labels.
need(len(re.findall(r'<label for="follow-\d+" class="sr-only">', dom)) == len(names),
     "agents in the sidebar lack labels")
need('<label class="field-label" for="q">' in dom, "the search box has no label")
print(f"ok: {len(turns)} turns in step 1, {len(charts)} charts, {svg.count('<rect')} bars")
PY

browse --hide-scrollbars --window-size=1280,1600 --screenshot="$TMP/report.png" \
    >/dev/null 2>"$TMP/shot.err" || { tail -20 "$TMP/shot.err"; fail "chromium --screenshot failed"; }
python3 - "$TMP/report.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("FAIL: the screenshot is not a PNG")
width, height = struct.unpack(">II", data[16:24])
if (width, height) != (1280, 1600):
    sys.exit(f"FAIL: the screenshot is {width}x{height}, not 1280x1600")
idat, pos = b"", 8
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
# A blank or single-colour page compresses to almost nothing and has few
# distinct byte values; a drawn report has text, colours and charts.
if len(data) < 40000 or len(set(raw)) < 100:
    sys.exit(f"FAIL: the screenshot looks empty ({len(data)} bytes, {len(set(raw))} values)")
print(f"ok: screenshot {width}x{height}, {len(data)} bytes")
PY
pass "report: drawn in a real browser, self-contained, screenshot taken"
