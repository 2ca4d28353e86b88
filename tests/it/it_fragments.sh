#!/usr/bin/env bash
# One spec under four names, each with its own fragment (TinyTroupe's "political
# compass" notebook: load_specification(path, new_agent_name=...) then
# import_fragment): the run works with the offline model, and each agent's persona
# recorded in SimBegin holds its own fragment's values merged as merge_dicts does
# (lists joined without repeats, the rest of the spec kept). A scripted event
# with an agent's name as its source shows in the transcript.
source "$(dirname "$0")/lib.sh"
DATA=$SRC/tests/data/fidelity
OUT=$TMP/compass
"$COORD" run "$DATA/compass.json" --out "$OUT" --quiet || fail "run exited $?"
[[ $(stats "$OUT/sim.tlog" steps) -eq 2 ]] || fail "want 2 steps"
"$COORD" log dump "$OUT/sim.tlog" > "$TMP/dump.json"
head -1 "$TMP/dump.json" > "$TMP/begin.json"
python3 - "$TMP/begin.json" <<'PY' || fail "personas in SimBegin"
import json, sys
begin = json.load(open(sys.argv[1]))["body"]["begin"]
people = {a["name"]: json.loads(a["persona_json"])["persona"] for a in begin["agents"]}
want = {
    "Rosa Left": ("Public healthcare should be free for everyone.", "Community gardens"),
    "Rosa Right": ("Lower taxes let families decide for themselves.", "Small businesses"),
    "Rosa Libertarian": ("The state should stay out of private life.", "Cryptography"),
    "Rosa Authoritarian": ("Order matters more than individual preference.", "Military history"),
}
assert sorted(people) == sorted(want), sorted(people)
for name, (belief, interest) in want.items():
    p = people[name]
    assert p["name"] == name, p["name"]
    # the spec's belief stays first, the fragment's repeat of it is dropped
    assert p["beliefs"] == ["Work should be done well.", belief], (name, p["beliefs"])
    assert p["preferences"]["interests"] == ["Sailing", "Jazz", "Politics", interest], name
    assert p["preferences"]["likes"] == ["Coffee"], name
    assert p["behaviors"]["political"] == ["Argues for: " + belief], name
    assert p["occupation"]["title"] == "Ferry engineer", name
    # no other agent's fragment leaked in
    for other, (b, i) in want.items():
        if other != name:
            assert b not in p["beliefs"] and i not in p["preferences"]["interests"], (name, other)
PY
# every agent acted under its new name
for n in "Rosa Left" "Rosa Right" "Rosa Libertarian" "Rosa Authoritarian"; do
    assert_contains "$OUT/transcript.txt" "$n"
done
# a scripted stimulus whose source is an agent's name is shown (once); the
# agents' own TALKs, delivered as CONVERSATIONs, are not shown twice
assert_contains "$OUT/transcript.txt" "Rosa Left --> Rosa Right: [CONVERSATION]"
assert_contains "$OUT/transcript.txt" "A scripted line: you and I grew up in the same house."
n=$(grep -c -- "--> .*\[CONVERSATION\]" "$OUT/transcript.txt" || true)
[[ $n -eq 2 ]] || fail "$n CONVERSATION lines in the transcript, want 2 (Moderator, scripted)"
# the same file under one name twice is refused at the second entry, nothing written
sed 's/"Rosa Right"/"Rosa Left"/' "$DATA/compass.json" > "$TMP/dup.json"
for f in rosa_lind.agent.json left.fragment.json right.fragment.json libertarian.fragment.json \
    authoritarian.fragment.json; do cp "$DATA/$f" "$TMP/"; done
set +e; "$COORD" run "$TMP/dup.json" --out "$TMP/dup" --quiet 2>"$TMP/e"; rc=$?; set -e
[[ $rc -eq 2 ]] || fail "duplicate names: exit $rc"
grep -q "^$TMP/dup.json:7:5: agents\[1\]: two agents are named \"Rosa Left\"" "$TMP/e" ||
    { cat "$TMP/e"; fail "duplicate names: message"; }
[[ ! -e $TMP/dup ]] || fail "duplicate names: wrote output"
pass "one spec under four names with four fragments"
