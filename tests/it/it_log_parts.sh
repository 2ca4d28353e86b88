#!/usr/bin/env bash
# No log frame grows with the population (issue #19): a run whose SimBegin and
# steps are several MiB writes them as Parts of TT_LIMIT_RECORD_PART (1 MiB)
# and a small record. The log verifies, no frame is much over 1 MiB, `log`
# commands read the records whole, --replay gives the same final hash with no
# model call, and a coordinator killed while a step's Parts are being written
# resumes to the uninterrupted run's final hash (the dangling Parts are cut).
# A version 1 log (before Parts) is resumed as version 1.
source "$(dirname "$0")/lib.sh"
N=1500
STEPS=3
SC=$TMP/crowd.json
python3 - "$SC" "$SRC" $N $STEPS <<'EOF'
import json, sys
path, src, n, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = ["lisa_carter", "oscar_ramos", "marcos_oliveira", "amara_okafor"]
agents = [{"file": f"{src}/examples/agents/{a}.agent.json", "count": n // 4} for a in names]
doc = {"name": "crowd", "seed": 7, "world": {"step": "PT10M"}, "agents": agents,
       "steps": steps, "faculties": ["recall"],
       "events": [{"step": 1, "source": "Host", "broadcast":
                   "Welcome. Would you use a new bus line through the neighbourhood?"}]}
json.dump(doc, open(path, "w"))
EOF
run() { "$COORD" run "$SC" --llm offline --slots 500 --quiet "$@" 2>>"$TMP/run.err"; }

# frames LOG -> "frames largest kinds ends": the file's frames, read by hand;
# kinds is the RecordBody kind of each (1 begin, 2 step, 5 end; p a Part), ends
# the byte offsets where the StepCommits end
frames() {
    python3 - "$1" <<'EOF'
import struct, sys
def varint(b, i):
    v = s = 0
    while True:
        v |= (b[i] & 0x7F) << s
        s += 7
        i += 1
        if b[i - 1] < 0x80:
            return v, i
d = open(sys.argv[1], "rb").read()
assert d[:10] == b"TROUPELOG\0", "not a log"
assert struct.unpack_from("<H", d, 10)[0] == 2, "format version is not 2"
off, sizes, kinds, ends = 16, [], [], []
while off + 12 <= len(d):
    magic, n, _ = struct.unpack_from("<III", d, off)
    assert magic == 0x524C5454, f"bad magic at {off}"
    p = d[off + 12:off + 12 + n]  # Record: prev_hash (field 1, 32 bytes), body (field 2)
    assert p[0] == 0x0A and p[1] == 32 and p[34] == 0x12
    _, i = varint(p, 35)
    kinds.append(str(p[i] >> 3))  # the RecordBody's first field is its kind
    sizes.append(n)
    off += 12 + n
    if kinds[-1] == "2":
        ends.append(str(off))
assert off == len(d), "trailing bytes"
print(len(sizes), max(sizes), "".join(k if k != "9" else "p" for k in kinds), ",".join(ends))
EOF
}

run --out "$TMP/ref"
LOG=$TMP/ref/sim.tlog
"$COORD" log verify "$LOG" >"$TMP/verify.out" || { cat "$TMP/verify.out"; fail "log verify"; }
records=$(stats "$LOG" records)
[[ $(stats "$LOG" steps) -eq $STEPS ]] || fail "steps"
read -r nframes largest kinds ends < <(frames "$LOG")
size=$(stat -c %s "$LOG")
# SimBegin and each step are over a MiB: whole, each would be one frame that size
[[ $size -gt $((2 * (STEPS + 1) * 1048576)) ]] || fail "the run is too small to need Parts ($size bytes)"
[[ $kinds =~ ^p+1(p+2)+5$ && $(grep -o 'p*2' <<<"$kinds" | wc -l) -eq $STEPS ]] ||
    fail "frames are not Parts before SimBegin and every StepCommit: $kinds (p: Part)"
limit=$((1048576 + 1048576 / 10 + 64 * 1024)) # a Part, its telemetry, one agent's entry
[[ $largest -le $limit ]] || fail "largest frame $largest bytes (over $limit)"
# records read whole: every agent's AgentStep in every StepCommit, every AgentInfo
"$COORD" log dump "$LOG" | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == $records, len(rows)
assert len(rows[0]['body']['begin']['agents']) == $N
steps = [r['body']['step'] for r in rows if r['kind'] == 'step']
assert len(steps) == $STEPS
for s in steps:
    assert [a['agent'] for a in s['agents']] == list(range($N)), 'agents out of order'
for r in rows:
    assert 'parts' not in r['body'], 'a record shows its parts'
    if r['kind'] == 'step':
        assert len(r['telemetry']['agents']) == $N, 'telemetry lost'
" || fail "log dump does not give the records whole"
ref=$(stats "$LOG" final_hash)

# replay: the same log, no model call
run --out "$TMP/replay" --replay "$LOG"
[[ $(stats "$TMP/replay/sim.tlog" final_hash) == "$ref" ]] || fail "replay: different final hash"
[[ $(stats "$TMP/replay/sim.tlog" llm_calls) -eq 0 ]] || fail "replay called the model"
"$COORD" log diff "$LOG" "$TMP/replay/sim.tlog" >/dev/null || fail "log diff after replay"

# kill -9 while step 2's Parts are being written (the middle of step 2 in the
# clean run's log: the frames' sizes differ only by their telemetry), resume
IFS=, read -r end1 end2 _ <<<"$ends"
mid=$(((end1 + end2) / 2))
d=$TMP/killed
"$COORD" run "$SC" --llm offline --slots 500 --quiet --out "$d" 2>>"$TMP/run.err" &
pid=$! # the coordinator itself, not a subshell
deadline=$((SECONDS + 300))
until [[ -f "$d/sim.tlog" && $(stat -c %s "$d/sim.tlog") -ge $mid ]]; do
    kill -0 "$pid" 2>/dev/null || fail "the run ended before step 2 was written"
    [[ $SECONDS -lt $deadline ]] || fail "step 2 was not written"
    sleep 0.01
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
at=$(stats "$d/sim.tlog" steps)
[[ $(stats "$d/sim.tlog" complete) == False ]] || fail "the run finished before the kill"
"$COORD" log verify "$d/sim.tlog" >"$TMP/killed.verify" 2>&1 && how="after a whole step" ||
    how="with $(grep -o '[0-9]* Part records with no record after them' "$TMP/killed.verify" ||
        echo 'a torn tail')"
run --out "$d" --resume
[[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "resume after a kill at step $at: different final hash"
"$COORD" log verify "$d/sim.tlog" >/dev/null || fail "the resumed log does not verify"
cmp -s "$TMP/ref/transcript.txt" "$d/transcript.txt" || fail "transcript differs after resume"
# a version 1 log (a small run's log is one with its header's version set to
# 1) is read, resumed, and goes on as version 1 with whole records
FG=$SRC/examples/scenarios/focus_group.json
"$COORD" run "$FG" --out "$TMP/fg" --steps 120 --quiet 2>/dev/null
fg_ref=$(stats "$TMP/fg/sim.tlog" final_hash)
"$COORD" run "$FG" --out "$TMP/fg1" --steps 120 --quiet 2>/dev/null &
pid=$!
wait_for_step "$TMP/fg1/sim.tlog" 20
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
[[ $(stats "$TMP/fg1/sim.tlog" complete) == False ]] || fail "the small run finished before the kill"
printf '\x01' | dd of="$TMP/fg1/sim.tlog" bs=1 seek=10 conv=notrunc status=none
timeout 300 "$COORD" run "$FG" --out "$TMP/fg1" --steps 120 --resume --quiet 2>/dev/null ||
    fail "resuming a version 1 log failed or hung"
[[ $(od -An -tu1 -j10 -N1 "$TMP/fg1/sim.tlog" | tr -d ' ') == 1 ]] || fail "the version 1 log changed version"
[[ $(stats "$TMP/fg1/sim.tlog" final_hash) == "$fg_ref" ]] || fail "version 1 resume: different final hash"

pass "$N agents: $records records in $nframes frames ($kinds), largest $largest bytes; replay and resume (killed at step $at, $how) give the same final hash; a version 1 log resumes as version 1"
