"""Whether a run or a shared autoencoder must be computed again: its request against the one on disk.

A run's *request* is its full resolved configuration plus the fingerprints of its
inputs. ``params.json`` keeps the request of the result beside it (``autoencoder.json``
that of the autoencoder), and a batch skips a run while the request is unchanged and
its result is good: an edit of one hyper-parameter refits only the runs it touches.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..files import json_default, sha256_file
from ..paths import FAILED_RECORD, METRICS, PARAMS, SCORES
from .plan import RunPlan, SplitPlan


def _canonical(value):
    """``value`` as it reads back from JSON (tuples become lists), so a stored record compares equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=json_default))


def read_json(path):
    """The JSON value in ``path``, or None when it is missing or unreadable (a record is never an error)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def input_fingerprints(plan: SplitPlan) -> dict:
    """The sha256 of the split's prepared data and of its split file."""
    return {"prepared": sha256_file(plan.prepared), "split": sha256_file(plan.split)}


def autoencoder_request(plan: SplitPlan, inputs: dict) -> dict:
    """What makes the shared autoencoder what it is: its settings, the split's inputs, seed and device."""
    ae = plan.autoencoder
    request = {"net": ae.net, "params": ae.params, "device": plan.device, "seed": plan.seed,
               "preprocessing": plan.preprocessing, "inputs": inputs}
    if ae.code is not None:  # the code that trains it (code_version.autoencoder_version); absent in plans by hand
        request["code"] = ae.code
    return _canonical(request)


def run_request(plan: SplitPlan, run: RunPlan, inputs: dict) -> dict:
    """A run's full resolved configuration and the fingerprints of its inputs.

    Stored in ``params.json`` (key ``request``); a rerun skips the run while this is
    unchanged. ``inputs`` holds the sha256 of the prepared data and of the split; the
    autoencoder enters by its own request (the same settings on the same inputs give
    the same autoencoder), and the run's ``code`` (``code_version.run_version``, which the
    workflow sets) ties it to the version of the code that computed it.
    """
    request = {
        "dataset": plan.dataset, "setting": plan.setting, "normal_classes": list(plan.normal_classes),
        "seed": plan.seed, "device": plan.device, "split_params": plan.split_params,
        "preprocessing": plan.preprocessing, "method": run.method,
        "hyper_parameters": run.hyper_parameters, "net": run.net, "inputs": inputs,
        "autoencoder": autoencoder_request(plan, inputs) if run.uses_autoencoder else None,
    }
    if run.code is not None:
        request["code"] = run.code
    return _canonical(request)


def is_up_to_date(run_dir, request: dict) -> bool:
    """Whether ``run_dir`` holds a good result of exactly ``request``.

    A ``failed.json`` of another request is stale once a good result of this request
    is there (the config went back to parameters that had worked): it is removed.
    """
    run_dir = Path(run_dir)
    params = read_json(run_dir / PARAMS)
    metrics = read_json(run_dir / METRICS)
    if not (params and metrics and (run_dir / SCORES).is_file()):
        return False
    if params.get("request") != request or metrics.get("status") != "ok":
        return False
    failed = run_dir / FAILED_RECORD
    if failed.exists():
        record = read_json(failed)
        if record is not None and record.get("request") == request:
            return False  # the latest attempt of this very request failed: try again
        failed.unlink()
    return True


def runs_to_fit(plan: SplitPlan) -> tuple[list[tuple[RunPlan, dict]], list[tuple[RunPlan, dict]]]:
    """Every ``(run, request)`` of a split plan, and those not up to date (to fit)."""
    inputs = input_fingerprints(plan)
    every = [(run, run_request(plan, run, inputs)) for run in plan.runs]
    return every, [(run, request) for run, request in every if not is_up_to_date(run.run_dir, request)]


def autoencoder_record(plan: SplitPlan, request: dict) -> dict | None:
    """The record beside the plan's autoencoder file when that file was made by ``request``, else None."""
    path = Path(plan.autoencoder.path)
    record = read_json(path.with_suffix(".json"))
    if path.is_file() and record is not None and record.get("request") == request:
        return record
    return None
