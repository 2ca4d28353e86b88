#!/usr/bin/env bash
# Stop the agentds of one run started by launch-ssh.sh:
#
#   scripts/cluster/stop-ssh.sh RUN_ID [RECORD]
#
# RECORD (default ./troupe-run-RUN_ID.hosts, written by launch-ssh.sh) lists
# "host index" lines; a hosts file of launch-ssh.sh works too. On each host,
# TROUPE_SSH_PARALLEL at a time, the processes whose command line is an agentd
# with --data-dir .../troupe-runs/RUN_ID/agentd-N get SIGTERM, then SIGKILL
# after 10 s: that run's agentds, and no other process (not another run's, not
# a reused pid). Agentds also stop by themselves when their coordinator
# finishes or goes silent. Their memory stays in ~/troupe-runs/RUN_ID/.
set -euo pipefail
run=${1:?usage: stop-ssh.sh RUN_ID [RECORD]}
[[ "$run" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "stop-ssh.sh: run id '$run': letters, digits, _ and - only" >&2; exit 2; }
record=${2:-troupe-run-$run.hosts}
[[ -r "$record" ]] || { echo "stop-ssh.sh: cannot read $record (give the hosts file as RECORD)" >&2; exit 2; }
parallel=${TROUPE_SSH_PARALLEL:-32}
per_host=${TROUPE_SSH_TIMEOUT:-30}
# The pattern cannot match the remote shell running it: its command line does
# not start with a word ending in "agentd".
pattern="^[^ ]*agentd .*--data-dir [^ ]*/troupe-runs/$run/agentd-[0-9]+( |\$)"
cmd="p='$pattern'; n=\$(pgrep -c -f \"\$p\" || true); pkill -TERM -f \"\$p\" || true
    for _ in \$(seq 100); do pgrep -f \"\$p\" >/dev/null || break; sleep 0.1; done
    pkill -KILL -f \"\$p\" || true; echo \"stopped \$n\""
mapfile -t hosts < <(awk '!/^[[:space:]]*(#|$)/ {print $1}' "$record" | sort -u)
running=0
for host in "${hosts[@]}"; do
    if [[ $running -ge $parallel ]]; then
        wait -n || true
        running=$((running - 1))
    fi
    (
        out=$(timeout "$per_host" ssh -n -o BatchMode=yes -o ConnectTimeout="$per_host" "$host" "$cmd" 2>&1) \
            && echo "troupe: run $run on $host: ${out##*$'\n'} agentd(s)" \
            || echo "troupe: run $run on $host: ssh failed: ${out//$'\n'/ }" >&2
    ) &
    running=$((running + 1))
done
wait
[[ -z "${2:-}" ]] && rm -f "$record"
exit 0
