"""How much a workflow call prints: a report, not a test (always exits 0).

Figures, in bytes of standard output and error together:

- ``dry run``: ``snakemake -n`` of each config in an empty folder, as a user types it (no
  profile): the first jobs and the job counts (target: < 100 KB), and with
  ``--full`` also ``OCBENCH_LIST_JOBS=all``, the listing of every job;
- ``--run``: what ``make run`` prints: the embedded default (or ``--configfile``) from
  empty folders with the default profile and two cores, then ``--report``, in a
  temporary folder (target: < 30 KB; several minutes). ``--keep-output FILE`` keeps it.

    .venv/bin/python benchmarks/console.py [--configs config.yaml ...] [--full] [--run]

The header prints the date and the load: the byte counts do not depend on it, the
run's duration does.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from dag import BIN, PRESETS, ROOT, line, planned_jobs, snakemake, timed, with_empty_folders


def dry_run(config: Path, full: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="ocbench-console-") as tmp:
        configfile = with_empty_folders(config, Path(tmp))
        listings = [("", {})] + ([(" (OCBENCH_LIST_JOBS=all)", {"OCBENCH_LIST_JOBS": "all"})] if full else [])
        for label, env in listings:
            os.environ.update(env)
            seconds, _, output = timed(snakemake(Path(tmp), configfile, "--dry-run"))
            for key in env:
                del os.environ[key]
            line(f"dry run {config.name}{label}", f"{len(output.encode()):,} bytes",
                 f"target < 100 KB; {planned_jobs(output)} jobs, {seconds:.1f} s")


def make_run(configfile: Path | None, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="ocbench-console-run-") as tmp:
        workdir = Path(tmp)
        command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
                   "--cores", "2", "--profile", str(ROOT / "workflow" / "profiles" / "default")]
        if configfile is not None:  # else, as `make run`, the embedded default
            command += ["--configfile", str(configfile.resolve())]
        start = time.perf_counter()
        _, _, output = timed(command)
        _, _, report = timed(command + ["--report", str(workdir / "results" / "report.html")])
        minutes = (time.perf_counter() - start) / 60
        if keep is not None:
            keep.write_text(output + report)
        line("make run: workflow + report", f"{len(output.encode()) + len(report.encode()):,} bytes",
             f"target < 30 KB; workflow {len(output.encode()):,}, report {len(report.encode()):,}; "
             f"{planned_jobs(output)} jobs, {minutes:.1f} min")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=PRESETS, help="configs to dry-run")
    parser.add_argument("--full", action="store_true", help="also the dry run that lists every job")
    parser.add_argument("--run", action="store_true", help="also what `make run` prints (several minutes)")
    parser.add_argument("--configfile", type=Path, help="with --run: this config instead of the embedded default")
    parser.add_argument("--keep-output", type=Path, help="with --run: write the console to this file")
    args = parser.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs")
    for config in args.configs:
        dry_run((ROOT / config).resolve(), args.full)
    if args.run:
        make_run(args.configfile, args.keep_output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
