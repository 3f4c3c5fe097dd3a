"""What a config costs before it runs: each job's predicted time, from a calibration of this machine.

``estimate(config)`` expands the grid (``config.runs``, ``group_runs``), asks the cost
model (``model.py``) which timings it needs, times those the calibration file lacks
(``calibration.py``; CPU here, CUDA only on a GPU or from a file recorded on one) and
returns every job's prediction. ``format_estimate`` prints it: each training job, the
time per rule, the total core-hours and GPU-hours, and the longest job. The workflow's
cluster runtime of a training job is ``runtime_minutes`` of the same prediction
(``rules/common.smk``; docs/cost.md).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from ..errors import OcbenchError
from .calibration import Calibration, Needs, calibrate, calibration_files
from .model import CostModel, JobCost

DEVICES = ("cpu", "cuda")


@dataclass
class Estimate:
    config_name: str
    device: str | None
    jobs: list[JobCost]
    calibration: Calibration
    unpredicted: dict[str, int] = field(default_factory=dict)

    @property
    def clock(self) -> str:
        return self.calibration.clock


def with_device(config: dict, device: str | None) -> dict:
    """The config with every run that trains on a device moved to ``device`` (None: as the config says)."""
    if device is None:
        return config
    if device not in DEVICES:
        raise OcbenchError(f"device {device!r} cannot be estimated; allowed: {', '.join(DEVICES)}")
    changed = copy.deepcopy(config)
    changed["devices"] = [device]
    return changed


def estimate_device(config: dict) -> str:
    """The device the deep runs train on: cuda when the config lists it (or auto with a GPU here), else cpu."""
    from .calibration import cuda_present

    devices = set(config["devices"])
    if "cuda" in devices or ("auto" in devices and cuda_present()):
        return "cuda"
    return "cpu"


def estimate(config: dict, config_name: str = "config", device: str | None = None, calibration_file=None,
             measure: bool = True, clock: str = "cpu") -> Estimate:
    """Every job's predicted seconds for the validated ``config`` (its deep runs on ``device`` when given).

    The timings the calibration lacks are measured first when ``measure`` (CPU timings
    here; CUDA ones where torch sees a GPU); otherwise a missing one is an error.
    ``clock``: ``cpu``, the seconds of one dedicated core, or ``wall``, as the calibration
    measured them on this machine at its load (``calibration.CLOCKS``).
    """
    config = with_device(config, device)
    on = estimate_device(config)
    calibration = Calibration(calibration_files(config, on, calibration_file), clock)
    needs = Needs()
    CostModel(config, needs, auto_device=on).workflow_costs()
    if measure:
        calibrate(calibration, list(needs.specs.values()), needs.sizes)
    model = CostModel(config, calibration, auto_device=on)
    return Estimate(config_name, device, model.workflow_costs(), calibration, model.unpredicted())


def batch_seconds(config: dict) -> dict:
    """Each training job's (``config.Batch``) predicted seconds, from the calibration files alone
    (the workflow's cluster runtime; a missing timing is an ``OcbenchError`` naming what to run)."""
    from .calibration import MissingCalibration

    on = estimate_device(config)
    calibration = Calibration(calibration_files(config, on))
    try:
        costs = CostModel(config, calibration, auto_device=on).batch_costs()
    except MissingCalibration as err:
        raise OcbenchError(f"{err}: run `ocbench estimate CONFIG` (on a machine like the cluster's nodes) to "
                           "time it, or give cluster.train.runtime in minutes") from None
    return {batch: job.seconds for batch, job in costs.items()}


def runtime_minutes(seconds: float, safety: float, floor: int, attempt: int = 1) -> int:
    """A cluster job's time limit: the prediction times ``safety``, at least ``floor`` minutes; a retried
    attempt asks for ``attempt`` times that."""
    return int(attempt * max(int(floor), math.ceil(float(safety) * seconds / 60)))


# --------------------------------------------------------------------------- printing

def human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_estimate(result: Estimate, list_jobs: int = 20) -> str:
    """The estimate as text: the longest training jobs (all when fewer than ``list_jobs``), each rule, the totals."""
    jobs = result.jobs
    batches = sorted((j for j in jobs if j.rule == "run_batch"), key=lambda j: -j.seconds)
    lines = [f"{result.config_name}: {len(jobs)} jobs, {len(batches)} training jobs (run_batch)"
             + (f", deep runs on {result.device}" if result.device else "")
             + ("; CPU seconds of one dedicated core" if result.clock == "cpu"
                else "; wall seconds at the calibration's load") + ", a GPU's wall seconds"]
    lines += [f"calibration {line}" for line in result.calibration.machines()]
    parts = ("start", "data", "pretrain", "fit", "score", "record")
    shown = batches if len(batches) <= list_jobs else batches[:list_jobs]
    lines.append("")
    lines.append(("training jobs" if shown is batches else f"the {len(shown)} longest of {len(batches)} training jobs")
                 + " (seconds):")
    width = max([len(j.name) for j in shown] + [3])
    lines.append(f"  {'job':<{width}} {'runs':>5} {'total':>9} " + " ".join(f"{p:>8}" for p in parts))
    for job in shown:
        lines.append(f"  {job.name:<{width}} {job.n_runs:>5} {job.seconds:>9.1f} "
                     + " ".join(f"{job.parts.get(p, 0.0):>8.1f}" for p in parts))
    lines.append("")
    lines.append("per rule:")
    rules = {}
    for job in jobs:
        rules.setdefault(job.rule, []).append(job)
    for rule, members in rules.items():
        longest = max(members, key=lambda j: j.seconds)
        lines.append(f"  {rule:<14} {len(members):>6} jobs  {human(sum(j.seconds for j in members)):>10} in all, "
                     f"longest {human(longest.seconds)}")
    if result.unpredicted:
        lines.append("  not predicted: " + ", ".join(f"{rule} ({count} jobs)" for rule, count in
                                                     result.unpredicted.items()))
    cpu = sum(j.seconds for j in jobs if j.device != "cuda") / 3600
    gpu = sum(j.seconds for j in jobs if j.device == "cuda") / 3600
    longest = max(jobs, key=lambda j: j.seconds)
    lines.append("")
    lines.append(f"total: {cpu:.3g} core-hours (CPU jobs, one core each), {gpu:.3g} GPU-hours (CUDA jobs, "
                 "one GPU and one core each)")
    lines.append(f"longest job: {longest.rule} {longest.name}, {human(longest.seconds)}")
    return "\n".join(lines)
