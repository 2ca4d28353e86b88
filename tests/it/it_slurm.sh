#!/usr/bin/env bash
# A real single-node Slurm cluster (Debian's slurm-wlm and munge, configured by
# tests/slurm/setup.sh): scripts/cluster/troupe.sbatch runs the demo scenario
# with the coordinator and an srun-started agentd talking over TCP with CURVE,
# to completion, with the same final hash as a local run.
source "$(dirname "$0")/lib.sh"
if [[ "${TT_SKIP_SLURM:-}" == 1 ]]; then echo "SKIP: TT_SKIP_SLURM=1"; exit 0; fi
command -v sbatch >/dev/null || fail "slurm-wlm is not installed (scripts/deps.sh --test installs it)"
[[ $(id -u) -eq 0 ]] || fail "configuring a Slurm cluster needs root (or set TT_SKIP_SLURM=1)"
"$SRC/tests/slurm/setup.sh" || fail "the single-node Slurm cluster did not come up"
SC=$SRC/examples/scenarios/focus_group.json
"$COORD" run "$SC" --out "$TMP/local" --quiet
"$COORD" keygen "$TMP/keys" --clients 1 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
cd "$TMP"
TROUPE_BIN=$BIN TROUPE_KEYS=$TMP/keys TROUPE_PORT=$port \
    timeout 300 sbatch --wait --nodes=1 --output="$TMP/job.out" \
    "$SRC/scripts/cluster/troupe.sbatch" "$SC" "$TMP/slurm" 8 > "$TMP/sbatch.out" \
    || { cat "$TMP/job.out" 2>/dev/null; fail "the batch job failed"; }
cat "$TMP/job.out"
[[ $(stats "$TMP/slurm/sim.tlog" complete) == True ]] || fail "the Slurm run did not complete"
[[ $(stats "$TMP/slurm/sim.tlog" final_hash) == $(stats "$TMP/local/sim.tlog" final_hash) ]] \
    || fail "the Slurm run's final hash differs from the local run's"
ls -d "$TMP"/slurm/nodes/*/agents >/dev/null || fail "no agent memory on the node"
pass "slurm: troupe.sbatch ran the demo over CURVE with the local run's final hash"
