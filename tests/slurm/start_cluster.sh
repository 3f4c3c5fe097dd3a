#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/integration/test_slurm.py and .ci/run.
#
#   tests/slurm/start_cluster.sh      start it (or say that it already runs); exit 0 when it answers
#   tests/slurm/stop_cluster.sh       stop the daemons this script started
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge packages and root (the daemons
# run as root, so that no slurm or munge user is needed). Everything lives under
# $OCBENCH_SLURM_STATE (default /tmp/ocbench-slurm) except /etc/slurm/slurm.conf: the
# executor plugin's job step calls `srun` with the SLURM_* variables removed, so SLURM_CONF
# cannot point elsewhere. That file is written only when absent or written by this script.
#
# The cluster has no accounting (AccountingStorageType=accounting_storage/none), as a small
# cluster often has: the profile then asks for `squeue` status checks, which see finished
# jobs for MinJobAge seconds. Partitions `cpu` (the default) and `gpu` share the one node.
set -euo pipefail

STATE=${OCBENCH_SLURM_STATE:-/tmp/ocbench-slurm}
CONF=/etc/slurm/slurm.conf
MARKER="# ocbench test cluster (tests/slurm/start_cluster.sh)"

fail() { echo "start_cluster: $*" >&2; exit 1; }
cannot() { echo "start_cluster: $*" >&2; exit 2; }  # not an error of the cluster: this machine cannot host it

for tool in munged slurmctld slurmd sinfo sbatch squeue scontrol srun; do
    command -v "$tool" >/dev/null || cannot "'$tool' not found: apt-get install slurmctld slurmd slurm-client munge"
done
[ "$(id -u)" = 0 ] || cannot "must run as root (the daemons run as root here)"
if [ -e "$CONF" ] && ! grep -qxF "$MARKER" "$CONF"; then
    cannot "$CONF exists and was not written by this script: use that cluster, or move the file away"
fi

answers() { timeout 10 sinfo -h -o '%P %t' 2>/dev/null | grep -Eq '^cpu\*? (idle|mix|alloc)'; }
if [ -f "$STATE/slurmctld.pid" ] && answers; then
    echo "start_cluster: already running (state in $STATE)"
    exit 0
fi

mkdir -p "$STATE"/{spool/ctld,spool/d,log}
chmod 700 "$STATE"

# munge: its own key, socket and files under $STATE.
if [ ! -s "$STATE/munge.key" ]; then
    dd if=/dev/urandom of="$STATE/munge.key" bs=1024 count=1 status=none
fi
chmod 400 "$STATE/munge.key"
if ! [ -f "$STATE/munged.pid" ] || ! kill -0 "$(cat "$STATE/munged.pid")" 2>/dev/null; then
    munged --force --key-file="$STATE/munge.key" --socket="$STATE/munge.socket" \
        --pid-file="$STATE/munged.pid" --log-file="$STATE/log/munged.log" \
        --seed-file="$STATE/munged.seed" \
        || fail "munged did not start (see $STATE/log/munged.log)"
fi

HOST=$(hostname -s)
CPUS=$(nproc)
# A little below the machine's memory, so that slurmd never finds less than it was told.
MEMORY=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 9 / 10 ))

mkdir -p "$(dirname "$CONF")"
cat > "$CONF" <<CONF
$MARKER
ClusterName=ocbench
SlurmctldHost=$HOST
AuthType=auth/munge
AuthInfo=socket=$STATE/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
# No cgroups in a container: processes are tracked by process group, tasks are not bound.
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# No accounting daemon: sacct has nothing to say, squeue reports jobs for MinJobAge seconds.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=900
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP
CONF

start_daemon() {  # name, pid file, command...
    local name=$1 pidfile=$2; shift 2
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")"; sleep 1  # restart: it may hold an older slurm.conf
    fi
    "$@" || fail "$name did not start (see $STATE/log/$name.log)"
}
start_daemon slurmctld "$STATE/slurmctld.pid" slurmctld -f "$CONF"
start_daemon slurmd "$STATE/slurmd.pid" slurmd -f "$CONF"

for _ in $(seq 1 30); do
    if answers; then
        scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
        echo "start_cluster: one node '$HOST' ($CPUS CPUs, $MEMORY MB), partitions cpu and gpu; state in $STATE"
        exit 0
    fi
    sleep 1
done
tail -n 5 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
fail "the cluster did not answer within 30 s (logs in $STATE/log)"
