#!/usr/bin/env bash
# A real single-node Slurm cluster (Debian's slurm-wlm and munge, configured by
# tests/slurm/setup.sh) runs scripts/cluster/troupe.sbatch as a site would:
#  - two jobs at once on the one node, each on a port of its own, each with
#    CURVE keys it made itself (a private 0700 directory, named in the running
#    coordinator's and agentd's command lines, gone after the job);
#  - agent memory on node-local storage (/tmp/troupe-JOBID-HOST), not in the
#    output directory, removed when the agentd ends;
#  - one job requeued mid-run (`scontrol requeue` after step 20; its coordinator
#    must say it was interrupted): it runs again, resumes from its log and ends
#    with the final hash of an uninterrupted local run, as does the other job.
# The model is fakellm with a little latency, so a run lasts long enough to be
# requeued in the middle.
source "$(dirname "$0")/lib.sh"
if [[ "${TT_SKIP_SLURM:-}" == 1 ]]; then echo "SKIP: TT_SKIP_SLURM=1"; exit 0; fi
command -v sbatch >/dev/null || fail "slurm-wlm is not installed (scripts/deps.sh --test installs it)"
[[ $(id -u) -eq 0 ]] || fail "configuring a Slurm cluster needs root (or set TT_SKIP_SLURM=1)"
"$SRC/tests/slurm/setup.sh" || fail "the single-node Slurm cluster did not come up"
SC=$SRC/examples/scenarios/focus_group.json
STEPS=150
start_fakellm --latency-ms 25
export OPENAI_BASE_URL=$FAKE_URL/v1 OPENAI_API_KEY=sk-slurm-test-secret
# the uninterrupted local run, alongside the jobs: its hash is needed at the end only
"$COORD" run "$SC" --out "$TMP/local" --steps $STEPS --quiet --no-progress 2>"$TMP/local.err" &
local_run=$!
PIDS+=("$local_run")
JOBS=()
cleanup_jobs() { for j in "${JOBS[@]:-}"; do [[ -n "$j" ]] && scancel "$j" 2>/dev/null; done; cleanup; }
trap cleanup_jobs EXIT
# log_stats LOG -> "COMPLETE STEPS FINAL_HASH", one pass over the log
log_stats() {
    "$COORD" log stats "$1" |
        python3 -c "import json,sys; s=json.load(sys.stdin); print(s['complete'], s['steps'], s['final_hash'])"
}

cd "$TMP"
submit() { # submit NAME: a job of 1 CPU and 8 slots; prints its id
    TROUPE_BIN=$BIN TROUPE_ARGS="--steps $STEPS" \
        sbatch --parsable --nodes=1 --cpus-per-task=1 --output="$TMP/$1.out" \
        "$SRC/scripts/cluster/troupe.sbatch" "$SC" "$TMP/$1" 8
}
state() { scontrol show job "$1" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
restarts() { scontrol show job "$1" -o 2>/dev/null | grep -o 'Restarts=[0-9]*' | cut -d= -f2; }
wait_state() { # wait_state JOB STATE SECONDS
    local deadline=$((SECONDS + $3))
    until [[ $(state "$1") == "$2" ]]; do
        [[ $SECONDS -lt $deadline ]] || fail "job $1: state $(state "$1"), want $2 within $3 s"
        sleep 0.2
    done
}
a=$(submit a)
b=$(submit b)
JOBS=("$a" "$b")
declare -A ID=([a]=$a [b]=$b)
wait_state "$a" RUNNING 120
wait_state "$b" RUNNING 120
[[ $(state "$a") == RUNNING ]] || fail "job $a ended before job $b started"
pass "two jobs running at once on one node ($a, $b)"

node=$(hostname -s)
for j in a b; do
    id=${ID[$j]}
    wait_for_step "$TMP/$j/sim.tlog" 5 120
    # slot agentds: one shared store per node directory
    [[ -s "/tmp/troupe-$id-$node/memory/data.mdb" ]] || fail "job $j: no memory in /tmp/troupe-$id-$node"
    [[ ! -e "$TMP/$j/nodes" ]] || fail "job $j: agent memory in the output directory"
    keys=$TMP/$j/.keys-$id
    [[ $(stat -c %a "$keys") == 700 ]] || fail "job $j: key directory $(stat -c %a "$keys"), want 700"
    [[ -s "$keys/agents/agent-1.cert_secret" ]] || fail "job $j: no client certificate for node 1"
    # CURVE on both sides, with this job's keys, as the command lines show
    pgrep -af -- "coordinator run .* --out $TMP/$j " | grep -qF -- "--keys $keys" ||
        fail "job $j: no coordinator running with --keys $keys"
    pgrep -af -- "--data-dir /tmp/troupe-$id-$node" | grep -qF -- "--server-key $keys/server.cert" ||
        fail "job $j: no agentd running with the job's server key"
done
pa=$(grep -o "$node:[0-9]*" "$TMP/a.out" | head -1)
pb=$(grep -o "$node:[0-9]*" "$TMP/b.out" | head -1)
[[ -n "$pa" && "$pa" != "$pb" ]] || fail "the jobs share a port ($pa, $pb)"
pass "each job: its own port ($pa, $pb), CURVE keys in a 0700 directory, memory on node-local /tmp"

wait_for_step "$TMP/a/sim.tlog" 20 120 # some memory consolidated before the requeue
read -r _ at _ < <(log_stats "$TMP/a/sim.tlog")
scontrol requeue "$a" || fail "scontrol requeue failed"
echo "requeued job $a after step $at of $STEPS"
# Slurm holds a requeued job for a while (BeginTime): a site waits, a test does not
deadline=$((SECONDS + 60))
until [[ $(restarts "$a") -ge 1 && $(state "$a") =~ ^(PENDING|CONFIGURING|RUNNING|COMPLETED)$ ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "job $a: not requeued within 60 s (state $(state "$a"))"
    sleep 0.2
done
if [[ $(state "$a") == PENDING ]]; then
    # Slurm refuses to start a requeued job within the second its credential was
    # revoked ("Killing non-startable batch job: Job credential revoked", the job
    # ends FAILED): a fast requeue did exactly that. Release it in a later second.
    revoked=$(date +%s)
    until (($(date +%s) > revoked)); do sleep 0.1; done
    scontrol update JobId="$a" StartTime=now || true
fi
deadline=$((SECONDS + 300))
until [[ $(state "$a") == COMPLETED && $(state "$b") == COMPLETED ]]; do
    for j in a b; do
        s=$(state "${ID[$j]}")
        [[ $s =~ ^(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]] && { cat "$TMP/$j.out"; fail "job $j: $s"; }
    done
    [[ $SECONDS -lt $deadline ]] ||
        { cat "$TMP/a.out"; fail "the jobs did not complete (a: $(state "$a"), b: $(state "$b"))"; }
    sleep 0.5
done
cat "$TMP/a.out"
assert_contains "$TMP/a.out" "coordinator: interrupted after step" # the requeue came mid-run
assert_contains "$TMP/a.out" ", resuming"
wait "$local_run" || { cat "$TMP/local.err"; fail "the local run failed"; }
read -r done_ steps ref < <(log_stats "$TMP/local/sim.tlog")
[[ $done_ == True && $steps -eq $STEPS ]] || fail "the local run did not complete"
for j in a b; do
    read -r done_ steps hash < <(log_stats "$TMP/$j/sim.tlog")
    [[ $done_ == True && $steps -eq $STEPS ]] || fail "job $j: the run did not complete ($steps steps)"
    [[ $hash == "$ref" ]] || fail "job $j: final hash differs from the local run's"
    [[ ! -e "$TMP/$j/.keys-${ID[$j]}" ]] || fail "job $j: its keys outlived it"
    [[ ! -e "/tmp/troupe-${ID[$j]}-$node" ]] || fail "job $j left its memory in /tmp"
done
grep -rq sk-slurm-test-secret "$TMP/a" "$TMP/b" "$TMP/a.out" "$TMP/b.out" && fail "the API key was written"
pass "job $a requeued after step $at resumed from its log: both jobs end with the local run's hash"
