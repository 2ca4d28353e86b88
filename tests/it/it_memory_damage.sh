#!/usr/bin/env bash
# Damage inside an agent memory's data pages (issue #20 item 1): bytes flipped
# in the values LMDB stores, or anywhere past the meta pages, after a run's
# step 3. The memory must never be used as it is: `agentd --dump-memory` says
# "damaged" (exit 1) or, when the flips only hit unused bytes, dumps what is
# there (exit 0) -- never a crash; a --resume rebuilds the agent from the log
# and ends with the undamaged resume's final hash.
source "$(dirname "$0")/lib.sh"
SC=$SRC/examples/scenarios/focus_group.json

# flip FILE SEED MODE: 20 bytes XOR 0x01.
#   content: in the text of stored values (after each `"content":"`), the
#            latest 20, so the damage is in what the next prompts show
#   random:  at random offsets past the two meta pages
flip() {
    python3 - "$@" <<'EOF'
import os, random, sys
path, seed, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = bytearray(open(path, "rb").read())
page = os.sysconf("SC_PAGESIZE")
if mode == "content":
    marks, i = [], data.find(b'"content":"', 2 * page)
    while i >= 0:
        marks.append(i + len(b'"content":"') + 2)
        i = data.find(b'"content":"', i + 1)
    spots = marks[-20:]
else:
    rng = random.Random(seed)
    spots = [rng.randrange(2 * page, len(data)) for _ in range(20)]
if len(spots) < 20:
    sys.exit("only %d places to flip" % len(spots))
for at in spots:
    data[at] ^= 0x01
open(path, "r+b").write(data)
EOF
}

d=$TMP/clean
"$COORD" run "$SC" --out "$d" --steps 3 --quiet 2>/dev/null
"$COORD" run "$SC" --out "$d" --steps 6 --quiet --resume 2>/dev/null
clean=$(stats "$d/sim.tlog" final_hash)

# Flipped bytes in stored values: found, reported, rebuilt.
d=$TMP/content
"$COORD" run "$SC" --out "$d" --steps 3 --quiet 2>/dev/null
agent=$(ls "$d/agents" | head -1)
mem=$d/agents/$agent
flip "$mem/data.mdb" 0 content
rc=0; "$AGENTD" --dump-memory "$mem" >"$d.out" 2>"$d.dump" || rc=$?
[[ $rc -eq 1 ]] || { tail -n 3 "$d.out" "$d.dump"; fail "dump of a memory with flipped values: exit $rc, want 1"; }
assert_contains "$d.dump" "damaged"
[[ ! -s $d.out ]] || fail "dump of a damaged memory printed $(wc -l < "$d.out") lines"
"$COORD" run "$SC" --out "$d" --steps 6 --quiet --resume 2>"$d.err" \
    || { tail "$d.err"; fail "resume over a memory with flipped values"; }
assert_contains "$d.err" "is damaged: discarding it"
[[ $(stats "$d/sim.tlog" final_hash) == "$clean" ]] || fail "flipped values: final hash differs from the undamaged resume"
"$AGENTD" --dump-memory "$mem" > "$d.after" || fail "the rebuilt memory does not dump"
grep -q '"key":"last_step","value":6' "$d.after" || fail "the rebuilt memory is not at step 6"
pass "20 bytes flipped in stored values: dump says damaged (exit 1); resume rebuilds the agent, same final hash"

# Flipped bytes anywhere in the data pages (keys, page headers, branch pages,
# free space): whatever they hit, no crash and the undamaged run's hash.
damaged=0
for seed in 1 2 3 4 5 6; do
    d=$TMP/random-$seed
    "$COORD" run "$SC" --out "$d" --steps 3 --quiet 2>/dev/null
    i=0
    for mem in "$d"/agents/*; do
        flip "$mem/data.mdb" $((seed * 100 + i++)) random
        rc=0; "$AGENTD" --dump-memory "$mem" >/dev/null 2>"$d.dump" || rc=$?
        [[ $rc -le 1 ]] || { cat "$d.dump"; fail "seed $seed: dump of $mem died (exit $rc)"; }
        [[ $rc -eq 0 ]] || assert_contains "$d.dump" "damaged"
        damaged=$((damaged + rc))
    done
    "$COORD" run "$SC" --out "$d" --steps 6 --quiet --resume 2>"$d.err" \
        || { tail "$d.err"; fail "seed $seed: resume over randomly flipped memories"; }
    [[ $(stats "$d/sim.tlog" final_hash) == "$clean" ]] || fail "seed $seed: final hash differs"
done
pass "20 bytes flipped at random in every agent's data pages (6 seeds, $damaged of 24 memories found damaged): no crash, the undamaged hash"

# The file cut under a running agent (issue #20 item 1, the guard around
# mapped reads and writes): its agentd is stopped while it waits in its loop
# (between turns, or mid-turn waiting for the model: its next touch of the
# memory is a read or the turn's commit), data.mdb is cut to its two meta
# pages, and it goes on. The access faults (SIGBUS) inside the guard: the
# memory is found damaged, discarded, and the agentd stops with status 3 (not
# killed by the signal, 135); the agent is rebuilt and the run ends with the
# undamaged run's hash.
STEPS=100 # long enough that the agentds are still there when looked for
d=$TMP/cut-ref
"$COORD" run "$SC" --out "$d" --steps $STEPS --quiet 2>/dev/null
ref=$(stats "$d/sim.tlog" final_hash)
d=$TMP/cut
TROUPE_LOG_LEVEL=info "$COORD" run "$SC" --out "$d" --steps $STEPS --quiet 2>"$d.err" &
coord=$!
PIDS+=("$coord")
wait_for_step "$d/sim.tlog" 2
victim=
deadline=$((SECONDS + 120))
while [[ -z $victim && $SECONDS -lt $deadline ]]; do
    for pid in $(pgrep -f -- "--data-dir $d" || true); do
        mem=$(readlink /proc/"$pid"/fd/* 2>/dev/null | grep -m1 '/data\.mdb$' || true)
        [[ -n $mem ]] || continue
        kill -STOP "$pid" || continue
        # waiting in poll (7) or epoll_wait (232): not inside an access to
        # the memory, so the next one begins after the cut
        nr=$(cut -d' ' -f1 /proc/"$pid"/syscall 2>/dev/null || true)
        if [[ $nr == 7 || $nr == 232 ]]; then
            truncate -s $((2 * $(getconf PAGESIZE))) "$mem"
            victim=$mem
        fi
        kill -CONT "$pid"
        [[ -z $victim ]] || break
    done
    [[ -n $victim ]] || sleep 0.05
done
[[ -n $victim ]] || fail "no agentd was found waiting in its loop"
wait "$coord" || { tail "$d.err"; fail "the run with a memory cut under its agent failed"; }
assert_contains "$d.err" "a read of the map faulted (SIGBUS)"
assert_contains "$d.err" "is dead (exited with status 3)"
assert_not_contains "$d.err" "exited with status 135"
[[ $(stats "$d/sim.tlog" final_hash) == "$ref" ]] || fail "memory cut mid-run: final hash differs"
pass "data.mdb cut under a running agent: the fault caught (exit 3, not SIGBUS), rebuilt, same final hash"
