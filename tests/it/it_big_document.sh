#!/usr/bin/env bash
# A 5 MB text document consulted by an agent, end to end: the scenario loader
# splits it into parts (no part over 1 MiB, cut at line ends), the parts reach
# the agentd in its assignment, are embedded into its memory, listed and
# consulted, and what the agent read reaches the transcript. Replay serves the
# run with zero model calls and the same final hash.
source "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/docs"
python3 - "$TMP/docs/harbour_minutes.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("The harbour board decided that the night ferry keeps running until 23:50.\n")
    i = 0
    while f.tell() < 5 * 1000 * 1000:
        f.write(f"Line {i:07d}: the board went through the mooring fees of berth {i % 97}.\n")
        i += 1
    f.write("Closing note: the lighthouse keeper retires in May.\n")
PY
size=$(stat -c %s "$TMP/docs/harbour_minutes.txt")
[[ $size -ge 5000000 ]] || fail "the document is only $size bytes"
cat > "$TMP/big.json" <<JSON
{
  "name": "A long document", "seed": 3,
  "world": {"name": "Harbour office", "start": "2026-05-01T09:00:00", "step": "PT10M"},
  "agents": [{"file": "$SRC/examples/agents/lisa_carter.agent.json", "documents": "docs"},
             "$SRC/examples/agents/oscar_ramos.agent.json"],
  "events": [{"step": 1, "source": "Oscar Ramos", "to": "Lisa Carter", "stimulus": "CONVERSATION",
              "content": "Lisa, please consult the documents you have: what did the harbour board decide?"}],
  "steps": 2
}
JSON
"$COORD" run "$TMP/big.json" --out "$TMP/a" --llm offline --quiet 2> "$TMP/a.err" ||
    { cat "$TMP/a.err"; fail "the run failed"; }
[[ $(stats "$TMP/a/sim.tlog" failed_agent_steps) -eq 0 ]] || fail "agent steps failed"
assert_contains "$TMP/a/transcript.txt" "[LIST_DOCUMENTS]"
assert_contains "$TMP/a/transcript.txt" "[CONSULT]"
assert_contains "$TMP/a/transcript.txt" "harbour_minutes.txt (part 1 of 5)"
# the transcript wraps long lines: the quote is checked in two pieces
assert_contains "$TMP/a/transcript.txt" "the night ferry keeps running"
assert_contains "$TMP/a/transcript.txt" "until 23:50."
# the log keeps the parts as the agentd got them: at most 1 MiB, cut after a line
"$COORD" log dump "$TMP/a/sim.tlog" > "$TMP/dump"
python3 - "$TMP/dump" <<'PY' || fail "the parts are not what the loader promises"
import json, sys
begin = json.loads(open(sys.argv[1]).readline())["body"]["begin"]
cfg = json.loads(begin["agents"][0]["agent_config_json"])
parts = cfg["documents"]
assert len(parts) == 5, [d["name"] for d in parts]
for d in parts:
    n = len(d["text"].encode())
    assert 0 < n <= 1 << 20, (d["name"], n)
    assert d["text"].endswith("\n"), (d["name"], "not cut at a line end")
PY
# every part is in the agent's memory
"$AGENTD" --dump-memory "$TMP/a/agents/Lisa Carter" > "$TMP/memory" 2> /dev/null
for p in 1 2 3 4 5; do
    assert_contains "$TMP/memory" "harbour_minutes.txt (part $p of 5)"
done
assert_contains "$TMP/memory" "the lighthouse keeper retires in May"
"$COORD" run "$TMP/big.json" --out "$TMP/b" --llm offline --quiet --replay "$TMP/a/sim.tlog" 2> /dev/null
[[ $(stats "$TMP/b/sim.tlog" llm_calls) -eq 0 ]] || fail "replay made calls"
[[ $(stats "$TMP/a/sim.tlog" final_hash) == $(stats "$TMP/b/sim.tlog" final_hash) ]] ||
    fail "replay: final hash differs"
pass "a $size-byte document: 5 parts in memory, listed, consulted, quoted; replayed"
