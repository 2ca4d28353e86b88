#!/usr/bin/env bash
# Outputs ready to analyse: pandas (Debian's python3-pandas under /usr/bin/python3)
# reads results.csv and extraction.csv and groups by a persona column with no
# join; each action row names the stimulus it answered.
source "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c "import pandas" 2>/dev/null || fail "python3-pandas is missing (scripts/deps.sh --test installs it)"
SC=$SRC/examples/scenarios/focus_group.json
"$COORD" run "$SC" --out "$TMP/run" --quiet 2>/dev/null
"$COORD" extract "$TMP/run" --objective "Each person's opinion of the app" --fields opinion --quiet
/usr/bin/python3 - "$TMP/run" "$SC" <<'PY'
import json, sys
import pandas as pd
out, scenario = sys.argv[1], sys.argv[2]
results = json.load(open(out + "/results.json"))
df = pd.read_csv(out + "/results.csv")
for col in ("stimulus_type", "stimulus", "persona.age", "persona.occupation.title"):
    assert col in df.columns, col
# grouped by a persona column, the counts are each agent's actions in results.json
by_job = df.groupby("persona.occupation.title")["type"].count().to_dict()
agents = {a["name"]: sum(a["actions"].values()) for a in results["agents"]}
jobs = df.drop_duplicates("agent").set_index("agent")["persona.occupation.title"].to_dict()
assert len(by_job) == len(agents) == 4, by_job
for name, total in agents.items():
    assert by_job[jobs[name]] == total, (name, by_job, total)
# step 1: every agent answers the moderator's opening broadcast
opening = [e for e in json.load(open(scenario))["events"] if e["step"] == 1][0]["broadcast"]
first = df[df["step"] == 1]
assert (first["stimulus"] == opening).all(), first["stimulus"].unique()
assert (first["stimulus_type"] == "CONVERSATION").all()
# the extraction table too: one row per agent with its persona
ex = pd.read_csv(out + "/extraction.csv")
assert len(ex) == 4 and "opinion" in ex.columns
ages = ex.groupby("persona.age")["name"].count()
assert ages.sum() == 4, ages
print("ok: pandas groups results.csv and extraction.csv by persona columns")
PY
