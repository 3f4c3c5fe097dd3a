"""Predicted against measured: every job of one workflow run, beside its ``ocbench estimate`` prediction.

    python benchmarks/estimate_accuracy.py config.yaml
    python benchmarks/estimate_accuracy.py benchmarks/estimate_fmnist.yaml --cores 2 --workdir /tmp/run
    python benchmarks/estimate_accuracy.py benchmarks/estimate_fmnist.yaml --measured /tmp/run

In a fresh working folder (a temporary one unless ``--workdir``) it first calibrates this
machine for the config (``ocbench.cost.estimate``; the calibration file goes to the
config's ``datadir`` there), then runs the workflow once with the default profile. Every
``ocbench`` command of the run starts through a stand-in on the ``PATH`` that records the
command's wall seconds and the CPU seconds of its process (``os.wait4``). It prints, per
job, the predicted and the measured CPU seconds (what the estimate predicts: one
dedicated core's time) and their ratio, the measured wall seconds beside the wall
seconds predicted from the calibration's own wall clock, per rule, and the totals, with
the load average sampled during the run: on a shared machine the wall clock also counts
the waits for a core, which the load stretches. ``--measured FOLDER`` compares a run this
script made before in FOLDER (its record of the commands) with the estimate from the
calibration there, timing what that lacks (after a change of the cost model) first.

Jobs that Snakemake runs in its own process (``configuration``, ``list_batches``, ``all``)
run no ``ocbench`` command and have no prediction. The targets (docs/cost.md): each job
within ±30 %, the total within ±15 %. A report, not a test: it always exits 0 once the
workflow ran.
"""
from __future__ import annotations

import argparse
import json
import os
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

#: the stand-in for ``ocbench``: runs the real one and appends its argv, wall and CPU seconds to a file
SHIM = '''#!{python} -S
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv({real!r}, [{real!r}] + sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
with open({record!r}, "a") as out:
    out.write(json.dumps({{"argv": sys.argv[1:], "wall": time.perf_counter() - started,
                          "cpu": usage.ru_utime + usage.ru_stime}}) + "\\n")
sys.exit(os.waitstatus_to_exitcode(status))
'''


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def job_of(argv: list[str]) -> tuple[str, str]:
    """(rule, job name as ``ocbench.cost`` names it) of an ``ocbench`` command line."""
    command = argv[0]
    if command == "run-batch":
        manifest = Path(_option(argv, "--manifest"))
        return "run_batch", "/".join([*manifest.parts[-4:-1], manifest.stem])
    if command == "split":
        out = Path(_option(argv, "--out"))
        return "split", "/".join([*out.parts[-4:-1], out.stem.removeprefix("seed")])
    if command in ("fetch", "prepare"):
        return command, _option(argv, "--dataset")
    if command in ("plot-roc", "plot-extremes"):
        return command.replace("-", "_"), f"{_option(argv, '--dataset')}/{_option(argv, '--setting')}"
    return command.replace("-", "_"), command.replace("-", "_")


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


def run_workflow(workdir: Path, configfile: Path, cores: int) -> tuple[float, dict]:
    """Run the workflow through the stand-in; (its wall seconds, {(rule, job): {"wall", "cpu"}})."""
    shim_dir, record = workdir / ".shim", workdir / "ocbench_commands.jsonl"
    shim_dir.mkdir(exist_ok=True)
    shim = shim_dir / "ocbench"
    shim.write_text(SHIM.format(python=sys.executable, real=str(Path(sys.executable).with_name("ocbench")),
                                record=str(record)))
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{shim_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    command = [str(Path(sys.executable).with_name("snakemake")), "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(workdir), "--configfile", str(configfile), "--profile",
               str(ROOT / "workflow" / "profiles" / "default"), "--cores", str(cores)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the workflow failed:\n{result.stderr[-3000:]}")
    return wall, read_record(record)


def read_record(record: Path) -> dict:
    """{(rule, job): {"wall", "cpu"}} of the stand-in's record of the commands."""
    measured = {}
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        measured[job_of(entry["argv"])] = {"wall": entry["wall"], "cpu": entry["cpu"]}
    return measured


def _ratio(measured: float, predicted: float) -> float:
    return measured / predicted if predicted else float("inf")


def compare(cpu: dict, wall: dict, measured: dict) -> list[str]:
    """The table: per job, per rule, the totals; ``cpu`` and ``wall`` are the predictions by job."""
    lines = [f"{'rule':<14} {'job':<34} {'CPU s: predicted':>16} {'measured':>9} {'ratio':>6}   "
             f"{'wall s: predicted':>17} {'measured':>9} {'ratio':>6}"]
    outside, by_rule = [], {}
    for key in sorted(cpu):
        rule, name = key
        if key not in measured:
            lines.append(f"{rule:<14} {name:<34} {cpu[key]:>16.1f} {'(not run)':>9}")
            continue
        got = measured[key]
        ratio = _ratio(got["cpu"], cpu[key])
        mark = "" if abs(ratio - 1) <= JOB_TARGET else " *"
        outside += [key] if mark else []
        totals = by_rule.setdefault(rule, [0, 0.0, 0.0, 0.0, 0.0])
        for i, value in enumerate((1, cpu[key], got["cpu"], wall[key], got["wall"])):
            totals[i] += value
        lines.append(f"{rule:<14} {name:<34} {cpu[key]:>16.2f} {got['cpu']:>9.2f} {ratio:>6.2f}{mark:<2} "
                     f"{wall[key]:>17.2f} {got['wall']:>9.2f} {_ratio(got['wall'], wall[key]):>6.2f}")
    for key in sorted(set(measured) - set(cpu)):
        lines.append(f"{key[0]:<14} {key[1]:<34} {'-':>16} {measured[key]['cpu']:>9.2f}   (not predicted)")
    lines += ["", f"{'rule':<14} {'jobs':>5} {'CPU s: predicted':>16} {'measured':>9} {'ratio':>6}   "
                  f"{'wall s: predicted':>17} {'measured':>9} {'ratio':>6}"]
    for rule, (n, p_cpu, m_cpu, p_wall, m_wall) in by_rule.items():
        lines.append(f"{rule:<14} {n:>5} {p_cpu:>16.1f} {m_cpu:>9.1f} {_ratio(m_cpu, p_cpu):>6.2f}   "
                     f"{p_wall:>17.1f} {m_wall:>9.1f} {_ratio(m_wall, p_wall):>6.2f}")
    both = [k for k in cpu if k in measured]
    for what, keys in (("all", both), ("training (run_batch)", [k for k in both if k[0] == "run_batch"])):
        p_cpu, m_cpu = sum(cpu[k] for k in keys), sum(measured[k]["cpu"] for k in keys)
        p_wall, m_wall = sum(wall[k] for k in keys), sum(measured[k]["wall"] for k in keys)
        lines.append(f"{what} jobs ({len(keys)}): CPU predicted {human(p_cpu)}, measured {human(m_cpu)}, ratio "
                     f"{_ratio(m_cpu, p_cpu):.2f}; wall predicted {human(p_wall)}, measured {human(m_wall)}, "
                     f"ratio {_ratio(m_wall, p_wall):.2f}")
    lines.append(f"jobs whose CPU seconds are outside ±{JOB_TARGET:.0%} of the prediction (*): {len(outside)} of "
                 f"{len(both)}" + (f" ({', '.join(sorted({k[0] for k in outside}))})" if outside else "")
                 + f"; target for the total: ±{TOTAL_TARGET:.0%}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", help="run there (default: a temporary folder, removed afterwards)")
    parser.add_argument("--measured", help="the folder of a run this script made: compare it, run nothing")
    args = parser.parse_args(argv)

    config = load_and_validate(yaml.safe_load(Path(args.config).read_text()))
    print(f"date: {datetime.now():%Y-%m-%d %H:%M}, machine: {os.cpu_count()} cores, "
          f"load before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    temporary = None
    workdir = Path(args.measured or args.workdir or (temporary := tempfile.mkdtemp(prefix="ocbench-est-")))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if not Path(config["datadir"]).is_absolute():
            config["datadir"] = str(workdir / config["datadir"])
        started = time.perf_counter()
        result = estimate(config, args.config)
        print(f"calibration and estimate: {time.perf_counter() - started:.0f} s; "
              + "; ".join(result.calibration.machines()))
        cpu = {(j.rule, j.name): j.seconds for j in result.jobs}
        wall = {(j.rule, j.name): j.seconds for j in estimate(config, args.config, measure=False, clock="wall").jobs}
        if args.measured:
            measured = read_record(workdir / "ocbench_commands.jsonl")
        else:
            configfile = workdir / "config.yaml"
            shutil.copyfile(args.config, configfile)
            sampler = LoadSampler()
            sampler.start()
            seconds, measured = run_workflow(workdir, configfile, args.cores)
            sampler.stopped.set()
            print(f"workflow: {human(seconds)} on {args.cores} cores; load average during the run: "
                  f"{sampler.summary()}")
        print("\n".join(compare(cpu, wall, measured)))
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
