#!/usr/bin/env bash
# Stop the agentds started by launch-ssh.sh (reads ./troupe-agentds.pids).
# They also stop by themselves when their coordinator finishes or goes silent.
set -euo pipefail
pids=${1:-troupe-agentds.pids}
while read -r host pid; do
    [[ -z "$host" ]] && continue
    ssh -n -o BatchMode=yes "$host" "kill $pid 2>/dev/null || true" && echo "troupe: stopped $pid on $host"
done < "$pids"
rm -f "$pids"
