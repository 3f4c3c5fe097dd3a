"""The tiny config on a SLURM cluster against the same config run locally: a report, not a test.

Each round runs the tiny config (benchmarks/dag.py's TINY) from scratch twice, one after
the other on the same machine: locally (``--profile workflow/profiles/default``, its 2
cores) and through ``--profile workflow/profiles/slurm``; then prints both wall times and
their ratio (target: at most 1.5), the load average before each run, the number of
``sbatch`` submissions, and for the SLURM run the seconds its jobs waited in the queue
(other users' jobs) and ran (SLURM's submit, start and end times, from ``squeue``): the
rest of its wall time went to Snakemake's own work, the local jobs and the wait for the
plugin's status checks.

    tests/slurm/start_cluster.sh        # the one-node test cluster (root), or any cluster
    python benchmarks/slurm.py [--rounds 3] [--keep DIR]

On a busy machine each figure moves with the load: compare rounds at similar load, and
prefer the median ratio.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

from dag import TINY

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: what the jobs ask for on the small test node (tests/integration/test_slurm.py's SMALL_JOBS)
SMALL_JOBS = "cluster={small: {mem_mb: 300, runtime: 10}, train: {mem_mb: 600, runtime: 30}}"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(workdir: Path, *args: str) -> tuple[float, str]:
    """Snakemake on TINY in ``workdir`` (from scratch): its wall seconds and its output."""
    workdir.mkdir(parents=True)
    configfile = workdir / "tiny.yaml"
    configfile.write_text(yaml.safe_dump(TINY))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(configfile), *args]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return seconds, output


def job_seconds(run_id: str) -> tuple[float, float]:
    """The seconds the jobs of one workflow run waited in the queue and ran, summed over its
    jobs (from ``squeue``, which lists finished jobs for MinJobAge)."""
    listed = subprocess.run(["squeue", "--states=all", "--noheader", "--name", run_id, "--format=%V %S %e"],
                            capture_output=True, text=True).stdout.splitlines()
    queued = ran = 0.0
    for line in filter(None, listed):
        submitted, start, end = (datetime.fromisoformat(value) for value in line.split())
        queued += (start - submitted).total_seconds()
        ran += (end - start).total_seconds()
    return queued, ran


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="local and SLURM runs, one pair a round")
    parser.add_argument("--keep", type=Path, help="keep the runs' folders here (default: a temporary one)")
    args = parser.parse_args(argv)
    if shutil.which("sinfo") is None or subprocess.run(["sinfo"], capture_output=True).returncode != 0:
        sys.exit("no SLURM cluster answers `sinfo`: start one (tests/slurm/start_cluster.sh, as root)")

    top = args.keep or Path(tempfile.mkdtemp(prefix="ocbench-slurm-bench-"))
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} CPUs, folders in {top}")
    ratios = []
    for round_ in range(1, args.rounds + 1):
        before_local = load()
        local, _ = run(top / f"local{round_}", "--profile", str(ROOT / "workflow" / "profiles" / "default"))
        before_slurm = load()
        cluster, output = run(top / f"slurm{round_}", "--profile", str(ROOT / "workflow" / "profiles" / "slurm"),
                              "--config", SMALL_JOBS)
        run_id = re.search(r"SLURM run ID: (\S+)", output).group(1)
        submissions = len(re.findall(r"has been submitted with SLURM jobid", output))
        queued, ran = job_seconds(run_id)
        ratios.append(cluster / local)
        print(f"round {round_}: local {local:.1f} s (load {before_local}); "
              f"SLURM {cluster:.1f} s (load {before_slurm}), {submissions} sbatch submissions, "
              f"its jobs queued {queued:.0f} s and ran {ran:.0f} s; ratio {cluster / local:.2f} "
              f"({(cluster - queued) / local:.2f} without the queue wait)", flush=True)
    print(f"SLURM / local wall time: median {statistics.median(ratios):.2f} over {len(ratios)} round(s) "
          f"(target <= 1.5); load average now {load()}")
    if args.keep is None:
        shutil.rmtree(top, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
