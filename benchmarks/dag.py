"""What every Snakemake call costs before any job runs: a report, not a test (always exits 0).

Figures, each timed in a fresh process:

- ``config parse``: ``ocbench.config.load_config_file`` of each config (schema, registry and
  range checks, defaults), and whether it imported torch or scikit-learn (target: < 3 s,
  neither imported);
- ``workflow parse``: ``snakemake --list-rules`` with that config: the Snakefile, the
  config checks and the grid (target: < 3 s);
- ``dry run``: ``snakemake -n --quiet rules`` of each config in an empty folder, its wall
  time, planned jobs and peak memory (target: < 30 s);
- ``no-op rerun``: ``snakemake`` again in the folder of a finished run of a tiny config,
  which must have nothing to do (target: < 30 s), and its dry run.

Every Snakemake call starts with ``import snakemake``, printed first: where SLURM's client
commands are installed but no controller answers, the SLURM executor plugin waits 10 s
for ``scontrol`` in it (subtract it to compare with a machine without SLURM).

    .venv/bin/python benchmarks/dag.py [--configs config.yaml ...] [--workdir DIR] [--skip-run] [--stub-scontrol]

``--workdir`` keeps the tiny run there (made on the first call, reused afterwards). Other
processes on the machine slow every figure down: the header prints the load.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PRESETS = ["config.yaml", "workflow/experiments/deep_svdd_icml2018.yaml", "workflow/experiments/deep_sad_iclr2020.yaml"]
HEAVY = ("torch", "sklearn", "torchvision", "matplotlib", "scipy", "pandas")

#: a finished run of this is what the no-op rerun is timed on (tests/helpers/workflow.py's TINY)
TINY = {
    "seeds": [1],
    "methods": ["deep_svdd_oneclass", "cae", "isoforest"],
    "training": {"network": {"epochs": 1, "milestones": []}, "autoencoder": {"epochs": 1, "milestones": []}},
    "datasets": {"mnist5k": {"normal_classes": [0, 1], "settings": ["one_class"]}},
}

PARSE_CODE = """
import json, sys, time
start = time.perf_counter()
from ocbench.config import load_config_file, runs
config = load_config_file(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "runs": len(runs(config)),
                  "heavy": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


#: a folder put first on the PATH of every timed command (``--stub-scontrol``)
EXTRA_PATH: list[str] = []


def timed(command: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak resident MiB of the process, its output) of one command."""
    env = dict(os.environ, PATH=os.pathsep.join([*EXTRA_PATH, str(BIN), os.environ.get("PATH", "")]))
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        print(f"  ! {' '.join(command[:3])} ... exited {process.returncode}:\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def snakemake(workdir: Path, configfile: Path, *args: str) -> list[str]:
    return [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(configfile), *args]


def planned_jobs(output: str) -> int | None:
    match = re.search(r"^total\s+(\d+)\s*$", output, re.MULTILINE)
    return int(match.group(1)) if match else None


def line(name: str, value: str, target: str = "") -> None:
    print(f"{name:<58} {value:>22}   {target}", flush=True)


def config_parse(config: Path) -> None:
    seconds, _, output = timed([sys.executable, "-c", PARSE_CODE, str(config)], cwd=ROOT)
    try:
        parsed = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return
    heavy = ",".join(parsed["heavy"]) or "none"
    line(f"config parse {config.name}", f"{parsed['seconds']:.2f} s ({seconds:.2f} s process)",
         f"target < 3 s; heavy imports: {heavy}; {parsed['runs']} runs")


def with_empty_folders(config: Path, folder: Path) -> Path:
    """The config with datadir and outdir in ``folder``, so that every job is planned from scratch."""
    data = yaml.safe_load(config.read_text())
    data.update(datadir=str(folder / "data"), outdir=str(folder / "results"))
    path = folder / config.name
    path.write_text(yaml.safe_dump(data))
    return path


def workflow_parse_and_dry_run(config: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="ocbench-dag-") as tmp:
        folder = Path(tmp)
        configfile = with_empty_folders(config, folder)
        seconds, _, _ = timed(snakemake(folder, configfile, "--list-rules"))
        line(f"workflow parse {config.name}", f"{seconds:.2f} s", "target < 3 s")
        seconds, peak, output = timed(snakemake(folder, configfile, "--dry-run", "--quiet", "rules"))
        line(f"dry run {config.name}", f"{seconds:.1f} s, {peak:.0f} MiB",
             f"target < 30 s; {planned_jobs(output)} jobs")


def no_op_rerun(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    configfile = workdir / "tiny.yaml"
    configfile.write_text(yaml.safe_dump(TINY))
    profile = ["--cores", "2", "--profile", str(ROOT / "workflow" / "profiles" / "default")]
    if not (workdir / "results" / "summary.md").exists():
        seconds, _, _ = timed(snakemake(workdir, configfile, *profile))
        line("tiny run from scratch (not a target)", f"{seconds:.1f} s")
    seconds, peak, output = timed(snakemake(workdir, configfile, *profile))
    nothing = "Nothing to be done" in output
    line("no-op rerun of the finished tiny run", f"{seconds:.1f} s, {peak:.0f} MiB",
         "target < 30 s" + ("" if nothing else "; NOT a no-op: it ran jobs"))
    seconds, _, _ = timed(snakemake(workdir, configfile, "--dry-run", "--quiet", "rules"))
    line("dry run of the finished tiny run", f"{seconds:.1f} s", "target < 30 s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=PRESETS, help="configs to parse and dry-run")
    parser.add_argument("--workdir", type=Path, help="folder of the tiny run (default: a temporary one)")
    parser.add_argument("--skip-run", action="store_true", help="no tiny run, no no-op rerun")
    parser.add_argument("--stub-scontrol", action="store_true",
                        help="time as on a machine without SLURM: an `scontrol` that fails at once comes first "
                             "on the PATH, so the SLURM plugin does not wait for a controller")
    args = parser.parse_args(argv)
    if args.stub_scontrol:
        stub = Path(tempfile.mkdtemp(prefix="ocbench-stub-"))
        (stub / "scontrol").write_text("#!/bin/sh\nexit 1\n")
        (stub / "scontrol").chmod(0o755)
        EXTRA_PATH.append(str(stub))

    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs{', scontrol stubbed' if args.stub_scontrol else ''}")
    seconds, _, _ = timed([sys.executable, "-c", "pass"])
    line("python start (for scale)", f"{seconds:.2f} s")
    seconds, _, _ = timed([sys.executable, "-c", "import snakemake.cli"])
    # The SLURM executor plugin runs `scontrol show config` (10 s timeout) when Snakemake
    # loads its plugins: where SLURM's commands exist but no controller answers, every
    # Snakemake call below pays that wait.
    line("import snakemake (every call pays it)", f"{seconds:.2f} s",
         "over 5 s: the SLURM plugin waits for scontrol" if seconds > 5 else "")
    for config in args.configs:
        config = (ROOT / config).resolve()
        config_parse(config)
        workflow_parse_and_dry_run(config)
    if not args.skip_run:
        if args.workdir is not None:
            no_op_rerun(args.workdir.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="ocbench-tiny-") as tmp:
                no_op_rerun(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
