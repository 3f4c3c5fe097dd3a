"""Predicted against measured: every job of one workflow run, beside its ``ocbench estimate`` prediction.

    python benchmarks/estimate_accuracy.py config.yaml                  # calibrate, run, compare
    python benchmarks/estimate_accuracy.py CONFIG --cores 2 --workdir /tmp/run
    python benchmarks/estimate_accuracy.py CONFIG --measured /path/of/a/finished/run   # compare only

In a fresh working folder (a temporary one unless ``--workdir``) it first calibrates this
machine for the config (``ocbench.cost.estimate``; the calibration file goes to the
config's ``datadir`` there), then runs the workflow once with the default profile, then
reads each job's start and end from Snakemake's log (whole seconds) and prints, per job,
the predicted and measured seconds and their ratio, per rule, and the totals, with the
load average sampled during the run: the machine may be shared, and a loaded machine
stretches every job. ``--measured`` compares a run made before (its folder holds
``.snakemake/log``) with a calibration in its ``datadir`` instead.

Jobs that Snakemake runs in its own process (``configuration``, ``list_batches``, ``all``)
have no prediction and are listed apart. The targets (docs/cost.md): each job within
±30 %, the total within ±15 %.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ocbench.config import load_and_validate  # noqa: E402
from ocbench.cost import estimate, human  # noqa: E402

JOB_TARGET, TOTAL_TARGET = 0.30, 0.15
#: Snakemake's log stamps whole seconds: a shorter job's measured time is off by up to a second
RESOLVED_SECONDS = 5


def job_name(rule: str, wildcards: dict) -> str:
    """The name ``ocbench.cost`` gives the job of ``rule`` with these wildcards."""
    if rule == "run_batch":
        return f"{wildcards['dataset']}/{wildcards['setting']}/seed{wildcards['seed']}/{wildcards['device']}"
    if rule == "split":
        return "/".join(wildcards[k] for k in ("dataset", "setting", "normal", "seed"))
    if rule in ("fetch", "prepare"):
        return wildcards["dataset"]
    if rule in ("plot_roc", "plot_extremes"):
        return f"{wildcards['dataset']}/{wildcards['setting']}"
    return rule


def measured_jobs(log_path: Path) -> dict[tuple[str, str], float]:
    """(rule, job name) -> seconds from start to end, read from a Snakemake log (whole seconds)."""
    stamp, rule, wildcards, jobid = None, None, {}, None
    started, names, seconds = {}, {}, {}
    for line in log_path.read_text().splitlines():
        if match := re.fullmatch(r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]", line.strip()):
            stamp = datetime.strptime(" ".join(match.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif match := re.match(r"^(?:local)?rule (\w+):", line):
            rule, wildcards, jobid = match.group(1), {}, None
        elif rule and (match := re.match(r"^\s+wildcards: (.*)$", line)):
            wildcards = dict(item.split("=", 1) for item in match.group(1).split(", "))
        elif rule and (match := re.match(r"^\s+jobid: (\d+)$", line)):
            jobid = int(match.group(1))
            started[jobid] = stamp
        elif rule and jobid is not None and line.startswith("Shell command"):  # every job's block ends so
            names[jobid] = (rule, job_name(rule, wildcards))
            rule = None
        elif match := re.match(r"^Finished jobid: (\d+)", line):
            done = int(match.group(1))
            if done in started and done in names:
                seconds[names[done]] = (stamp - started[done]).total_seconds()
    return seconds


class LoadSampler(threading.Thread):
    """The one-minute load average every ``every`` seconds while a run goes on."""

    def __init__(self, every: float = 10.0):
        super().__init__(daemon=True)
        self.every, self.samples, self.stopped = every, [], threading.Event()

    def run(self):
        while not self.stopped.is_set():
            self.samples.append(os.getloadavg()[0])
            self.stopped.wait(self.every)

    def summary(self) -> str:
        if not self.samples:
            return "not sampled"
        return f"mean {sum(self.samples) / len(self.samples):.1f}, max {max(self.samples):.1f} " \
               f"({len(self.samples)} samples)"


def run_workflow(workdir: Path, configfile: Path, cores: int) -> float:
    command = [str(Path(sys.executable).with_name("snakemake")), "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(configfile), "--profile",
               str(ROOT / "workflow" / "profiles" / "default"), "--cores", str(cores)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"the workflow failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def compare(predicted: dict, measured: dict) -> list[str]:
    lines = [f"{'rule':<14} {'job':<34} {'predicted':>10} {'measured':>9} {'ratio':>6}"]
    outside, resolved, by_rule = [], [], {}
    for key in sorted(predicted, key=lambda k: (k[0], k[1])):
        rule, name = key
        if key not in measured:
            lines.append(f"{rule:<14} {name:<34} {predicted[key]:>10.1f} {'(not run)':>9}")
            continue
        ratio = measured[key] / predicted[key] if predicted[key] else float("inf")
        if measured[key] < RESOLVED_SECONDS:
            mark = "  ~"
        else:
            mark = "" if abs(ratio - 1) <= JOB_TARGET else "  *"
            resolved.append(key)
            outside += [key] if mark else []
        by_rule.setdefault(rule, [0.0, 0.0, 0])
        by_rule[rule][0] += predicted[key]
        by_rule[rule][1] += measured[key]
        by_rule[rule][2] += 1
        lines.append(f"{rule:<14} {name:<34} {predicted[key]:>10.1f} {measured[key]:>9.0f} {ratio:>6.2f}{mark}")
    for key in sorted(set(measured) - set(predicted)):
        lines.append(f"{key[0]:<14} {key[1]:<34} {'-':>10} {measured[key]:>9.0f}   (Snakemake's own process)")
    lines.append("")
    lines.append(f"{'rule':<14} {'jobs':>5} {'predicted':>10} {'measured':>9} {'ratio':>6}")
    for rule, (p, m, n) in by_rule.items():
        lines.append(f"{rule:<14} {n:>5} {p:>10.1f} {m:>9.0f} {m / p:>6.2f}")
    both = [k for k in predicted if k in measured]
    p_total, m_total = sum(predicted[k] for k in both), sum(measured[k] for k in both)
    lines.append("")
    lines.append(f"all {len(both)} predicted jobs: predicted {human(p_total)}, measured {human(m_total)}, "
                 f"ratio {m_total / p_total:.2f} (target within ±{TOTAL_TARGET:.0%})")
    training = [k for k in both if k[0] == "run_batch"]
    p_train, m_train = sum(predicted[k] for k in training), sum(measured[k] for k in training)
    lines.append(f"the {len(training)} training jobs: predicted {human(p_train)}, measured {human(m_train)}, "
                 f"ratio {m_train / p_train:.2f}")
    lines.append(f"jobs outside ±{JOB_TARGET:.0%} (*): {len(outside)} of the {len(resolved)} that took "
                 f"{RESOLVED_SECONDS} s or more" + (f" ({', '.join(sorted({k[0] for k in outside}))})" if outside else "")
                 + f"; {len(both) - len(resolved)} shorter ones (~) are below the log's one-second resolution")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", help="run there (default: a temporary folder, removed afterwards)")
    parser.add_argument("--measured", help="a finished run's folder: compare it, run nothing")
    args = parser.parse_args(argv)

    config = load_and_validate(yaml.safe_load(Path(args.config).read_text()))
    print(f"date: {datetime.now():%Y-%m-%d %H:%M}, machine: {os.cpu_count()} cores, "
          f"load before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    temporary = None
    if args.measured:
        workdir = Path(args.measured)
    else:
        workdir = Path(args.workdir) if args.workdir else Path(temporary := tempfile.mkdtemp(prefix="ocbench-est-"))
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        config["datadir"] = str(workdir / config["datadir"]) if not Path(config["datadir"]).is_absolute() \
            else config["datadir"]
        started = time.perf_counter()
        result = estimate(config, args.config, measure=not args.measured)
        print(f"calibration and estimate: {time.perf_counter() - started:.0f} s; "
              + "; ".join(result.calibration.machines()))
        predicted = {(j.rule, j.name): j.seconds for j in result.jobs}
        if not args.measured:
            configfile = workdir / "config.yaml"
            shutil.copyfile(args.config, configfile)
            sampler = LoadSampler()
            sampler.start()
            wall = run_workflow(workdir, configfile, args.cores)
            sampler.stopped.set()
            print(f"workflow: {human(wall)} on {args.cores} cores; load average during the run: {sampler.summary()}")
        logs = sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log"))
        if not logs:
            raise SystemExit(f"{workdir} holds no Snakemake log (.snakemake/log)")
        measured = measured_jobs(logs[0] if args.measured is None else max(logs, key=lambda p: p.stat().st_size))
        print("\n".join(compare(predicted, measured)))
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
