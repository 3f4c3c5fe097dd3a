"""How much of a workflow run's time goes into fitting and scoring.

Runs the workflow on the embedded default (or --configfile) in a fresh working
directory (so data/ and results/ start empty and yours are left alone), then prints:

- wall time, and wall time x cores (what the machine offered);
- CPU time of the whole process tree (Snakemake and every job it started, from
  getrusage(RUSAGE_CHILDREN));
- from results/tables/runs.csv: the sums of fit (train_*), of the shared autoencoders'
  pretraining (pretrain_*, each autoencoder once) and of scoring (test_*): their CPU
  seconds (*_cpu_s) as a share of the tree's CPU time, and their wall seconds
  (*_time_s) as a share of wall x cores. On a busy machine the wall seconds of a fit
  also count its waits for a core, so only the CPU share is meaningful there.

    python benchmarks/overhead.py                      # the embedded default, 2 cores
    python benchmarks/overhead.py --configfile tiny.yaml --cores 1 --keep

The machine's load average is printed before and after: on a shared machine the
figures are only comparable at similar load.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict) -> tuple[float, float]:
    """Run ``command``; return its wall seconds and the CPU seconds of its whole process tree."""
    cpu_before, start = children_cpu_seconds(), time.perf_counter()
    result = subprocess.run(command, env=env)
    wall, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu_before
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed with status {result.returncode}")
    return wall, cpu


def fit_score_seconds(runs_csv: Path) -> dict:
    """Sums over the good runs of runs.csv: wall seconds and CPU seconds."""
    import pandas as pd

    runs = pd.read_csv(runs_csv)
    ok = runs[runs["status"] == "ok"]
    # Every run that reads a shared autoencoder records its training time: count each one once.
    keys = ["dataset", "setting", "normal", "seed", "device"]
    autoencoders = ok.dropna(subset=["pretrain_time_s"]).drop_duplicates(keys)
    out = {"runs": len(runs), "failed": int((runs["status"] != "ok").sum())}
    for clock, (fit, pretrain, score) in {"wall": ("train_time_s", "pretrain_time_s", "test_time_s"),
                                          "cpu": ("train_cpu_s", "pretrain_cpu_s", "test_cpu_s")}.items():
        out[clock] = {"fit": float(ok[fit].sum()), "pretrain": float(autoencoders[pretrain].sum()),
                      "score": float(ok[score].sum())}
    return out


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", help="a config file instead of the embedded default (config.yaml)")
    parser.add_argument("--workdir", help="working directory (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--no-report", action="store_true", help="skip `snakemake --report` (make run makes it)")
    args = parser.parse_args(argv)

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ocbench-overhead-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    snakemake = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
                 "--cores", str(args.cores), "--profile", str(ROOT / "workflow" / "profiles" / "default"),
                 "--quiet"]
    if args.configfile:
        snakemake += ["--configfile", str(Path(args.configfile).resolve())]

    print(f"working directory {workdir}; load average before: {load()}", flush=True)
    wall, cpu = run(snakemake, env)
    report_wall = report_cpu = 0.0
    if not args.no_report:
        report_wall, report_cpu = run(snakemake + ["--report", str(workdir / "results" / "report.html")], env)
    print(f"load average after: {load()}")

    times = fit_score_seconds(workdir / "results" / "tables" / "runs.csv")
    total_wall, total_cpu = wall + report_wall, cpu + report_cpu
    offered = total_wall * args.cores
    print(f"runs: {times['runs']} ({times['failed']} failed)")
    print(f"wall time: workflow {wall:.1f} s + report {report_wall:.1f} s = {total_wall:.1f} s "
          f"({total_wall / 60:.2f} min); x {args.cores} cores = {offered:.1f} core-s")
    print(f"CPU time of the process tree: workflow {cpu:.1f} s + report {report_cpu:.1f} s = {total_cpu:.1f} s "
          f"({100 * total_cpu / offered:.1f} % of wall x cores; the rest went to other processes or idle)")
    for clock, against, name in (("cpu", total_cpu, "CPU time"), ("wall", offered, "wall x cores")):
        t = times[clock]
        inside = t["fit"] + t["pretrain"] + t["score"]
        print(f"{clock:>4} seconds in fit {t['fit']:.1f} + autoencoder pretraining {t['pretrain']:.1f} "
              f"+ scoring {t['score']:.1f} = {inside:.1f} s: {100 * inside / against:.1f} % of the {name}")
    if not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
