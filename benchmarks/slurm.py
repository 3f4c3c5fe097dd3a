"""The tiny config on a SLURM cluster against the same config run locally: a report, not a test.

Each round runs the tiny config (benchmarks/dag.py's TINY) from scratch twice, one after
the other on the same machine: locally (``--profile workflow/profiles/default``, its 2
cores) and through ``--profile workflow/profiles/slurm``; then prints both wall times and
their ratio (target: at most 1.5), the load average before each run, the number of
``sbatch`` submissions, and for the SLURM run the seconds its jobs waited in the queue
(other users' jobs) and ran (SLURM's submit, start and end times, from ``squeue``), and
how long after its end Snakemake saw each job finish (the wait for the plugin's status
checks; to the second, from the console's time stamps): the rest of its wall time went
to Snakemake's own work and the local jobs.

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


def job_times(run_id: str) -> list[tuple[datetime, datetime, datetime]]:
    """(submitted, started, ended) of each SLURM job of one workflow run, in the order they
    ended (from ``squeue``, which lists finished jobs for MinJobAge)."""
    listed = subprocess.run(["squeue", "--states=all", "--noheader", "--name", run_id, "--format=%V %S %e"],
                            capture_output=True, text=True).stdout.splitlines()
    times = [tuple(datetime.fromisoformat(value) for value in line.split()) for line in filter(None, listed)]
    return sorted(times, key=lambda job: job[2])


#: the console's time stamp of each job Snakemake saw finish, and its rule
FINISHED = re.compile(r"^\s*\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]\n\s*Finished jobid: \d+ \(Rule: (\w+)\)", re.M)
#: the rules whose jobs the SLURM profile may submit
SUBMITTED_RULES = {"prepare", "split", "run_batch"}


def seen_after(output: str, ends: list[datetime]) -> list[float]:
    """For each SLURM job's end, the seconds until Snakemake saw a submitted rule's job finish."""
    seen = sorted(datetime.strptime(stamp, "%a %b %d %H:%M:%S %Y") for stamp, rule in FINISHED.findall(output)
                  if rule in SUBMITTED_RULES)
    # the console's stamps have whole seconds: compare with the end's whole second
    return [next(((when - end.replace(microsecond=0)).total_seconds() for when in seen
                  if when >= end.replace(microsecond=0)), float("nan")) for end in ends]


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
        jobs = job_times(run_id)
        queued = sum((start - submitted).total_seconds() for submitted, start, _ in jobs)
        ran = sum((end - start).total_seconds() for _, start, end in jobs)
        seen = ", ".join(f"{lag:.0f}" for lag in seen_after(output, [end for *_, end in jobs]))
        ratios.append(cluster / local)
        print(f"round {round_}: local {local:.1f} s (load {before_local}); "
              f"SLURM {cluster:.1f} s (load {before_slurm}), {submissions} sbatch submissions, "
              f"its jobs queued {queued:.0f} s and ran {ran:.0f} s, seen {seen} s after they ended; "
              f"ratio {cluster / local:.2f} ({(cluster - queued) / local:.2f} without the queue wait)", flush=True)
    print(f"SLURM / local wall time: median {statistics.median(ratios):.2f} over {len(ratios)} round(s) "
          f"(target <= 1.5); load average now {load()}")
    if args.keep is None:
        shutil.rmtree(top, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
