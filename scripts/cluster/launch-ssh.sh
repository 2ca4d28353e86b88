#!/usr/bin/env bash
# Start agentds on remote hosts over ssh, one per line of a hosts file:
#
#   scripts/cluster/launch-ssh.sh HOSTS_FILE tcp://COORDINATOR:5555 [KEYS_DIR]
#   scripts/cluster/launch-ssh.sh --print-timeout HOSTS_FILE
#
# HOSTS_FILE lines: "host [slots]" (slots default 64; # comments allowed).
# Hosts are started in parallel, TROUPE_SSH_PARALLEL at a time (default 32),
# each bounded by TROUPE_SSH_TIMEOUT seconds (default 30). One ssh connection
# per host does everything: with KEYS_DIR (from `coordinator keygen KEYS_DIR
# --clients N`) host number i receives the server's public certificate and
# KEYS_DIR/agents/agent-i.cert(+_secret) as a tar stream on that connection.
#
# Every agentd of this launch carries a run id (TROUPE_RUN_ID, default made
# here) in its command line: --data-dir ~/troupe-runs/RUN_ID/agentd-i. The run
# id is printed, and ./troupe-run-RUN_ID.hosts records the hosts, so that
# `scripts/cluster/stop-ssh.sh RUN_ID` stops this run's agentds and no other
# process (no remote pids: a pid may be reused).
#
# Timeouts scale with the host count: the launch takes at most
# ceil(hosts / parallel) * TROUPE_SSH_TIMEOUT seconds; each agentd waits that
# plus 60 s for its coordinator (--welcome-ms), and the coordinator must wait as
# long for registrations: start it with
#   --set config.Troupe.REGISTER_TIMEOUT_S=$(launch-ssh.sh --print-timeout HOSTS_FILE)
# Remote hosts need agentd on their PATH (or set TROUPE_AGENTD=/path/to/agentd),
# tar when KEYS_DIR is given, and any API key in their own environment: keys are
# never sent from here. Logs: ~/troupe-runs/RUN_ID/agentd-i.log on each host.
set -euo pipefail
usage="usage: launch-ssh.sh HOSTS_FILE ENDPOINT [KEYS_DIR] | --print-timeout HOSTS_FILE"
parallel=${TROUPE_SSH_PARALLEL:-32}
per_host=${TROUPE_SSH_TIMEOUT:-30}
[[ "$parallel" =~ ^[1-9][0-9]*$ ]] || { echo "launch-ssh.sh: TROUPE_SSH_PARALLEL: expected a positive number" >&2; exit 2; }
[[ "$per_host" =~ ^[1-9][0-9]*$ ]] || { echo "launch-ssh.sh: TROUPE_SSH_TIMEOUT: expected a positive number" >&2; exit 2; }

# read_hosts FILE: fills hosts[] and slots[]
hosts=() slots=()
read_hosts() {
    [[ -r "$1" ]] || { echo "launch-ssh.sh: cannot read hosts file $1" >&2; exit 2; }
    local host n
    while read -r host n _; do
        [[ -z "$host" || "$host" == \#* ]] && continue
        n=${n:-64}
        [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "launch-ssh.sh: $host: slots '$n' is not a number" >&2; exit 2; }
        hosts+=("$host") slots+=("$n")
    done <"$1"
    [[ ${#hosts[@]} -gt 0 ]] || { echo "launch-ssh.sh: no hosts in $1" >&2; exit 2; }
}
# seconds the whole launch may take, plus a minute for the slowest agentd
budget_s() { echo $(( (${#hosts[@]} + parallel - 1) / parallel * per_host + 60 )); }

if [[ "${1:-}" == "--print-timeout" ]]; then
    read_hosts "${2:?$usage}"
    budget_s
    exit 0
fi
hosts_file=${1:?$usage}
endpoint=${2:?$usage}
keys=${3:-}
read_hosts "$hosts_file"
if [[ -n "$keys" && ! -r "$keys/server.cert" ]]; then
    echo "launch-ssh.sh: $keys/server.cert: not readable (make keys with coordinator keygen)" >&2
    exit 2
fi
run=${TROUPE_RUN_ID:-r$(date -u +%Y%m%dT%H%M%S)-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
[[ "$run" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "launch-ssh.sh: run id '$run': use letters, digits, _ and -" >&2; exit 2; }
agentd=${TROUPE_AGENTD:-agentd}
welcome_ms=$(( $(budget_s) * 1000 ))
record=troupe-run-$run.hosts
status=$(mktemp -d)
trap 'rm -rf "$status"' EXIT
ssh_opts=(-o BatchMode=yes -o ConnectTimeout="$per_host")

# start_host I: one ssh connection; its result goes to $status/I
start_host() {
    local i=$1 host=${hosts[$1 - 1]} n=${slots[$1 - 1]}
    local d="\$HOME/troupe-runs/$run/agentd-$i" security="" unpack=""
    if [[ -n "$keys" ]]; then
        security="--server-key $d/keys/server.cert --cert $d/keys/agent.cert"
        unpack="mkdir -p $d/keys && tar -C $d/keys -xf - || exit 1;"
    fi
    # the keys are unpacked in the foreground (a background job's stdin is /dev/null)
    local cmd="umask 077 && mkdir -p $d || exit 1; $unpack
        nohup $(printf %q "$agentd") --connect $(printf %q "$endpoint") --slots $n --data-dir $d \
        --welcome-ms $welcome_ms $security >$d.log 2>&1 </dev/null & echo started"
    local out rc=0
    if [[ -n "$keys" ]]; then
        [[ -r "$keys/agents/agent-$i.cert_secret" ]] || { echo "no key agents/agent-$i" >"$status/$i"; return; }
        out=$(tar -C "$keys" -cf - --transform "s|^agents/agent-$i\.|agent.|" server.cert \
            "agents/agent-$i.cert" "agents/agent-$i.cert_secret" |
            timeout "$per_host" ssh "${ssh_opts[@]}" "$host" "$cmd" 2>&1) || rc=$?
    else
        out=$(timeout "$per_host" ssh -n "${ssh_opts[@]}" "$host" "$cmd" 2>&1) || rc=$?
    fi
    if [[ $rc -eq 0 && "$out" == *started* ]]; then
        echo ok >"$status/$i"
        echo "troupe: agentd $i on $host ($n slots)"
    else
        echo "ssh exited $rc: ${out//$'\n'/ }" >"$status/$i"
    fi
}

echo "troupe: run $run: ${#hosts[@]} host(s), $parallel at a time; the coordinator must wait" \
     "$(budget_s) s (--set config.Troupe.REGISTER_TIMEOUT_S=$(budget_s))"
running=0
for i in $(seq 1 ${#hosts[@]}); do
    if [[ $running -ge $parallel ]]; then
        wait -n || true
        running=$((running - 1))
    fi
    start_host "$i" &
    running=$((running + 1))
done
wait || true

: >"$record"
failed=0
for i in $(seq 1 ${#hosts[@]}); do
    if [[ "$(cat "$status/$i" 2>/dev/null)" == ok ]]; then
        echo "${hosts[$i - 1]} $i" >>"$record"
    else
        failed=$((failed + 1))
        echo "troupe: agentd $i on ${hosts[$i - 1]} NOT started: $(cat "$status/$i" 2>/dev/null || echo 'no answer')" >&2
    fi
done
echo "troupe: run $run: $(( ${#hosts[@]} - failed )) agentd(s) started, $failed failed;" \
     "stop them with scripts/cluster/stop-ssh.sh $run"
[[ $failed -eq 0 ]]
