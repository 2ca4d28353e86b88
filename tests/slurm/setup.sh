#!/usr/bin/env bash
# Configure and start a single-node Slurm cluster on this machine, from Debian's
# packages (slurm-wlm, munge), for tests/it/it_slurm.sh. Needs root. Restarts the
# Slurm daemons each time; prints the node state on success and exits non-zero
# with a reason if the cluster does not come up.
#   tests/slurm/setup.sh          start (or reuse)
#   tests/slurm/setup.sh stop     stop the daemons it started
set -euo pipefail
conf=/etc/slurm/slurm.conf
node=$(hostname -s)
state=/var/spool/troupe-slurm

stop() {
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
    for _ in $(seq 50); do
        pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || return 0
        sleep 0.1
    done
    pkill -9 -x slurmd 2>/dev/null || true
    pkill -9 -x slurmctld 2>/dev/null || true
}
if [[ "${1:-}" == "stop" ]]; then stop; exit 0; fi
[[ $(id -u) -eq 0 ]] || { echo "setup.sh: needs root" >&2; exit 1; }
for b in munged slurmctld slurmd sinfo sbatch; do
    command -v "$b" >/dev/null || { echo "setup.sh: $b missing (apt-get install slurm-wlm munge)" >&2; exit 1; }
done

# munge: a key and a running daemon
if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key 2>/dev/null || true
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
if ! munge -n </dev/null >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --force 2>/dev/null || /usr/sbin/munged --force
    for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n </dev/null | unmunge >/dev/null || { echo "setup.sh: munge does not work" >&2; exit 1; }

# slurm.conf for one node, no cgroups (containers rarely allow them)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p /etc/slurm "$state/ctld" "$state/d" /var/log/slurm
cat > "$conf" <<CONF
ClusterName=troupe-test
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=troupe Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
rm -f /etc/slurm/cgroup.conf

stop # a fresh controller and node daemon every time: nothing half-started to reuse
slurmctld
for _ in $(seq 50); do timeout 2 scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
slurmd
deadline=$((SECONDS + 30))
while [[ $SECONDS -lt $deadline ]]; do
    s=$(timeout 3 sinfo -h -n "$node" -o %t 2>/dev/null || true)
    case "$s" in idle*|mix*|alloc*) echo "slurm node $node: $s"; exit 0 ;; esac
    [[ "$s" == down* || "$s" == drain* ]] && scontrol update nodename="$node" state=resume 2>/dev/null || true
    sleep 0.2
done
echo "setup.sh: the node did not become idle (state: ${s:-unknown}); see /var/log/slurm/" >&2
exit 1
