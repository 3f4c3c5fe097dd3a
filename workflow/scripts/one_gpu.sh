#!/usr/bin/env bash
# one_gpu.sh GPUS COMMAND...: run COMMAND; when GPUS is 1 (the job's `gpu` resource) and this
# machine has several GPUs, COMMAND sees only one of them, one that no other job holds.
#
# Snakemake's local scheduler counts GPUs (`--resources gpu=N` runs at most N CUDA jobs at
# once) but does not say which one a job should use; without this, every job would train
# on GPU 0. A job holds its GPU through a lock file until COMMAND exits (the lock's file
# descriptor is inherited), so a crashed job frees its GPU too. The GPUs are those of
# CUDA_VISIBLE_DEVICES when it is set (SLURM sets it to the job's one GPU), else those
# `nvidia-smi` lists. Locks live in $OCBENCH_GPU_LOCKS (default: /tmp/ocbench-gpu-locks-$UID).
set -euo pipefail
gpus=$1; shift
if [ "$gpus" != 1 ]; then exec "$@"; fi

if [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then
    IFS=, read -ra devices <<< "$CUDA_VISIBLE_DEVICES"
else
    mapfile -t devices < <(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null || true)
fi
if [ "${#devices[@]}" -le 1 ]; then exec "$@"; fi

locks=${OCBENCH_GPU_LOCKS:-/tmp/ocbench-gpu-locks-$(id -u)}
mkdir -p "$locks"
while true; do
    for device in "${devices[@]}"; do
        device=${device// /}
        exec 9> "$locks/$device.lock"
        if flock --nonblock 9; then
            export CUDA_VISIBLE_DEVICES=$device
            exec "$@"
        fi
        exec 9>&-
    done
    sleep 1  # more CUDA jobs than GPUs (no --resources gpu=N): wait for one to finish
done
