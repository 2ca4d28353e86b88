#!/usr/bin/env bash
# Web grounding (TinyTroupe's read_documents_from_web): a scenario's "web"
# pages, served by a local HTTP server, are fetched once before the run, their
# HTML turned into text (scripts and styles left out), kept in OUT/web, and
# consulted by the agent. A replay needs neither the server nor a model call
# and ends with the same hash; a page that cannot be fetched stops the run
# before it begins, naming the address and the status; a bad "web" list is
# file:line:col, exit 2.
source "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/site"
cat > "$TMP/site/ferry.html" <<'HTML'
<!DOCTYPE html>
<html><head><title>Harbour board notices</title>
<style>body { color: red } .hidden-style-marker {}</style>
<script>var trackingMarker = "script text never reaches an agent";</script></head>
<body><h1>Night ferry</h1>
<p>The harbour board decided that the night ferry keeps running
   until 23:50 &amp; stops at Dartmouth.</p>
<ul><li>Fares stay at 2.75 dollars</li><li>Bikes ride free</li></ul>
</body></html>
HTML
printf 'Plain notice: the lighthouse keeper retires in May.\n' > "$TMP/site/notice.txt"
# a local HTTP server on a free port, its port written once it listens
python3 - "$TMP/site" "$TMP/port" <<'PY' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
PY
SERVER_PID=$!
PIDS+=("$SERVER_PID")
deadline=$((SECONDS + 60))
until [[ -s $TMP/port ]]; do
    kill -0 "$SERVER_PID" 2> /dev/null || fail "the HTTP server did not start"
    [[ $SECONDS -lt $deadline ]] || fail "the HTTP server did not listen within 60 s"
    sleep 0.05
done
BASE="http://127.0.0.1:$(cat "$TMP/port")"

scenario() { # scenario FILE WEB_LIST_JSON
    cat > "$1" <<JSON
{
  "name": "Web grounding", "seed": 5,
  "world": {"name": "Harbour office", "start": "2026-05-01T09:00:00", "step": "PT10M"},
  "agents": [{"file": "$SRC/examples/agents/lisa_carter.agent.json", "web": $2},
             "$SRC/examples/agents/oscar_ramos.agent.json"],
  "events": [{"step": 1, "source": "Oscar Ramos", "to": "Lisa Carter", "stimulus": "CONVERSATION",
              "content": "Lisa, please consult the documents you have: what did the harbour board decide?"}],
  "steps": 2
}
JSON
}
scenario "$TMP/web.json" "[\"$BASE/ferry.html\", \"$BASE/notice.txt\"]"
"$COORD" run "$TMP/web.json" --out "$TMP/a" --llm offline --quiet 2> "$TMP/a.err" ||
    { cat "$TMP/a.err"; fail "the run failed"; }
[[ $(stats "$TMP/a/sim.tlog" failed_agent_steps) -eq 0 ]] || fail "agent steps failed"
# the pages as text, kept in OUT/web
ls "$TMP/a/web/"*.txt > /dev/null 2>&1 || fail "no page kept in OUT/web"
cat "$TMP/a/web/"*.txt > "$TMP/pages"
assert_contains "$TMP/pages" "Night ferry"
assert_contains "$TMP/pages" "keeps running until 23:50 & stops at Dartmouth."
assert_contains "$TMP/pages" "Bikes ride free"
assert_contains "$TMP/pages" "the lighthouse keeper retires in May"
assert_not_contains "$TMP/pages" "trackingMarker"
assert_not_contains "$TMP/pages" "hidden-style-marker"
# listed and consulted by the agent, named by their address
assert_contains "$TMP/a/transcript.txt" "[LIST_DOCUMENTS]"
assert_contains "$TMP/a/transcript.txt" "[CONSULT]"
assert_contains "$TMP/a/transcript.txt" "$BASE/ferry.html"
"$COORD" log dump "$TMP/a/sim.tlog" > "$TMP/dump"
assert_contains "$TMP/dump" "keeps running until 23:50"
pass "two pages fetched, made text, kept in OUT/web, listed and consulted"

# a page the server does not have
scenario "$TMP/missing.json" "[\"$BASE/missing.html\"]"
set +e
"$COORD" run "$TMP/missing.json" --out "$TMP/m" --llm offline --quiet 2> "$TMP/m.err"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "a missing page: exit $rc, not 1"
assert_contains "$TMP/m.err" "web page $BASE/missing.html: HTTP 404"
pass "a missing page: exit 1, the address and HTTP 404 named"

# the server is gone: a replay reads the pages kept by the replayed run
kill "$SERVER_PID"
wait "$SERVER_PID" 2> /dev/null || true
"$COORD" run "$TMP/web.json" --out "$TMP/b" --llm offline --quiet --replay "$TMP/a/sim.tlog" \
    2> "$TMP/b.err" || { cat "$TMP/b.err"; fail "the replay without the server failed"; }
[[ $(stats "$TMP/b/sim.tlog" llm_calls) -eq 0 ]] || fail "the replay made model calls"
[[ $(stats "$TMP/a/sim.tlog" final_hash) == $(stats "$TMP/b/sim.tlog" final_hash) ]] ||
    fail "the replay's final hash differs"
pass "replayed without the server: zero model calls, the same final hash"

# a page that cannot be fetched stops the run before it begins
set +e
"$COORD" run "$TMP/web.json" --out "$TMP/c" --llm offline --quiet 2> "$TMP/c.err"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "an unreachable page: exit $rc, not 1"
assert_contains "$TMP/c.err" "web page $BASE/ferry.html"
[[ ! -e $TMP/c/sim.tlog ]] || fail "a run began without its page"
pass "an unreachable page: exit 1 naming it, no run begun"

# a bad list is bad input
scenario "$TMP/bad.json" '["ftp://example/file"]'
set +e
"$COORD" run "$TMP/bad.json" --out "$TMP/d" --llm offline --quiet 2> "$TMP/d.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "a bad \"web\" list: exit $rc, not 2"
grep -qE 'bad\.json:[0-9]+:[0-9]+: .*http:// or https://' "$TMP/d.err" ||
    { cat "$TMP/d.err"; fail "no file:line:col error for the bad address"; }
pass "a bad \"web\" list: file:line:col, exit 2"
