#!/usr/bin/env bash
# Stop the one-node cluster of tests/slurm/start_cluster.sh (its daemons, by their pid files).
set -uo pipefail
STATE=${OCBENCH_SLURM_STATE:-/tmp/ocbench-slurm}
for daemon in slurmd slurmctld munged; do
    pidfile="$STATE/$daemon.pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")"
    fi
    rm -f "$pidfile"
done
echo "stop_cluster: stopped (state kept in $STATE)"
