#!/usr/bin/env bash
# Start agentds on remote hosts over ssh, one per line of a hosts file:
#
#   scripts/cluster/launch-ssh.sh HOSTS_FILE tcp://COORDINATOR:5555 [KEYS_DIR]
#
# HOSTS_FILE lines: "host [slots]" (slots default 64; # comments allowed).
# With KEYS_DIR (from `coordinator keygen KEYS_DIR --clients N`), host number i
# receives KEYS_DIR/agents/agent-i.cert and the server's public certificate by
# scp, and its agentd authenticates with CURVE. Every agentd's pid is recorded in
# ./troupe-agentds.pids as "host pid" for scripts/cluster/stop-ssh.sh.
# Remote hosts need agentd on their PATH (or set TROUPE_AGENTD=/path/to/agentd)
# and any API key in their own environment: keys are never sent from here.
set -euo pipefail
hosts=${1:?usage: launch-ssh.sh HOSTS_FILE ENDPOINT [KEYS_DIR]}
endpoint=${2:?usage: launch-ssh.sh HOSTS_FILE ENDPOINT [KEYS_DIR]}
keys=${3:-}
agentd=${TROUPE_AGENTD:-agentd}
ssh_opts=(-n -o BatchMode=yes -o ConnectTimeout=10)
pids=troupe-agentds.pids
: > "$pids"
i=0
while read -r host slots _; do
    [[ -z "$host" || "$host" == \#* ]] && continue
    i=$((i + 1))
    slots=${slots:-64}
    security=""
    if [[ -n "$keys" ]]; then
        ssh "${ssh_opts[@]}" "$host" 'umask 077; mkdir -p ~/.troupe'
        scp -q -o BatchMode=yes "$keys/server.cert" "$keys/agents/agent-$i.cert" \
            "$keys/agents/agent-$i.cert_secret" "$host:.troupe/"
        security="--server-key ~/.troupe/server.cert --cert ~/.troupe/agent-$i.cert"
    fi
    pid=$(ssh "${ssh_opts[@]}" "$host" \
        "nohup $agentd --connect $endpoint --slots $slots --data-dir ~/troupe-data $security \
         >> ~/troupe-agentd.log 2>&1 < /dev/null & echo \$!")
    echo "$host $pid" >> "$pids"
    echo "troupe: agentd on $host (pid $pid, $slots slots)"
done < "$hosts"
echo "troupe: $i agentd(s) started; stop them with scripts/cluster/stop-ssh.sh"
