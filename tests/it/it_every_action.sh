#!/usr/bin/env bash
# The offline model uses every action kind: examples/scenarios/every_action.json
# asks for each one, and each appears in the run's log and transcript --
# REACH_OUT (which makes Amara reachable to Lisa), LIST_EVENTS, a custom
# faculty's SKETCH_IDEA, RECALL_WITH_FULL_SCAN, and the rest. Deterministic:
# a second run has the same final hash.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/every_action.json
"$COORD" run "$SC" --out "$TMP/a" --llm offline --quiet 2> /dev/null
"$COORD" log stats "$TMP/a/sim.tlog" > "$TMP/stats.json"
python3 - "$TMP/stats.json" <<'PY' || fail "an action kind is missing"
import json, sys
d = json.load(open(sys.argv[1]))
kinds = d["actions_by_type"]
want = ["TALK", "THINK", "REACH_OUT", "DONE", "RECALL", "RECALL_WITH_FULL_SCAN", "LIST_DOCUMENTS",
        "CONSULT", "WRITE_DOCUMENT", "CREATE_EVENT", "LIST_EVENTS", "SKETCH_IDEA"]
missing = [k for k in want if k not in kinds]
assert not missing, f"missing {missing} in {kinds}"
assert d["failed_agent_steps"] == 0, "failed agent steps"
PY
for k in REACH_OUT LIST_EVENTS SKETCH_IDEA RECALL_WITH_FULL_SCAN CREATE_EVENT; do
    assert_contains "$TMP/a/transcript.txt" "[$k]"
done
# nobody is reachable at first (accessibility none): REACH_OUT made Lisa
# reachable for Amara from step 2 on
"$COORD" log dump "$TMP/a/sim.tlog" > "$TMP/dump"
python3 - "$TMP/dump" <<'PY' || fail "REACH_OUT did not make Lisa and Amara accessible"
import json, sys
names = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["kind"] == "begin":
        names = [a["name"] for a in r["body"]["begin"]["agents"]]
    step = r.get("body", {}).get("step")
    if step and step["step"] == 2:
        amara = [a for a in step["agents"] if names[a["agent"]] == "Amara Okafor"][0]
        assert "Lisa Carter" in amara["input"].get("accessible", []), amara["input"]
PY
"$COORD" run "$SC" --out "$TMP/b" --llm offline --quiet 2> /dev/null
[[ $(stats "$TMP/a/sim.tlog" final_hash) == $(stats "$TMP/b/sim.tlog" final_hash) ]] ||
    fail "two runs differ"
pass "every action kind in one offline run, REACH_OUT connects, deterministic"
