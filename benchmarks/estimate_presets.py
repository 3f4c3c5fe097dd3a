"""The estimate of every preset in workflow/experiments/, as the Markdown table of docs/cost.md.

    python benchmarks/estimate_presets.py                        # CPU, calibrated here
    python benchmarks/estimate_presets.py --device cuda --calibration FILE

Each preset's deep runs are moved to ``--device`` (the presets list cuda); the timings the
calibration lacks are measured first (``ocbench.cost.estimate``; the calibration file is
``--datadir``/calibration/, shared by the presets). Prints one row per preset: its jobs,
its training jobs, the CPU core-hours and GPU-hours, the longest job, and the jobs the
model does not predict.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ocbench.config import load_config_file  # noqa: E402
from ocbench.cost import estimate, human  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--calibration", help="calibration file (for cuda without a GPU here)")
    parser.add_argument("--datadir", default=str(ROOT / "data"), help="where the CPU calibration is kept")
    args = parser.parse_args(argv)

    print(f"date: {datetime.now():%Y-%m-%d %H:%M}, machine: {os.cpu_count()} cores, "
          f"load: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    rows = []
    for path in sorted((ROOT / "workflow" / "experiments").glob("*.yaml")):
        config = load_config_file(path)
        config["datadir"] = args.datadir
        started = time.perf_counter()
        result = estimate(config, path.name, args.device, args.calibration)
        jobs = result.jobs
        cpu = sum(j.seconds for j in jobs if j.device != "cuda") / 3600
        gpu = sum(j.seconds for j in jobs if j.device == "cuda") / 3600
        longest = max(jobs, key=lambda j: j.seconds)
        training = [j for j in jobs if j.rule == "run_batch"]
        left = ", ".join(f"{rule} ({n})" for rule, n in result.unpredicted.items()) or "-"
        rows.append(f"| `{path.name}` | {len(jobs)} | {len(training)} | {cpu:.3g} | {gpu:.3g} | "
                    f"{human(longest.seconds)} ({longest.name}) | {left} |")
        print(f"{path.name}: estimated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print("; ".join(result.calibration.machines()))
    print(f"\n| preset (deep runs on {args.device}) | jobs | training jobs | core-hours | GPU-hours | longest job | "
          "not predicted |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
