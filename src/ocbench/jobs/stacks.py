"""Stacks: a batch job's deep runs of equal settings trained at once on one device.

The splits of one batch job (its normal classes) often train the same network with
the same settings on training sets of one size. On a GPU one process then trains them
as one stack (``detectors.deep.fit_stacked``: K networks mapped with ``torch.func.vmap``)
instead of one small network after another: first the splits' shared autoencoders,
then each deep method. Every run keeps its own seed's initial weights, batches,
centre and run directory, and its result equals training it alone up to float
rounding (tests/unit/test_stacked.py). ``batch.run_batches`` then scores and records each
run as usual; a run's ``train_time_s`` is its share of the stack's training time and
``stack_size`` says how many models shared it.

A stack that fails (one model's loss diverges, the GPU runs out of memory) is not an
error of its runs: they are trained alone afterwards, where a failing run is
recorded on its own.
"""
from __future__ import annotations

import json
import logging

import numpy as np

from ..data import load_run_data
from ..detectors import method_spec
from ..errors import OcbenchError
from ..files import atomic_path
from .failures import failure_reason
from .measure import Clock
from .plan import SplitPlan
from .pretraining import write_autoencoder_record
from .uptodate import autoencoder_record, runs_to_fit

log = logging.getLogger("ocbench.jobs")

#: ``training.stack``: ``auto`` stacks on CUDA only (on a CPU a stack is slower per model),
#: ``always`` on every device, ``never`` trains every run alone
STACK_MODES = ("auto", "always", "never")


def stacking(mode: str, device: str) -> bool:
    """Whether a batch job on ``device`` trains its deep runs as stacks."""
    if mode not in STACK_MODES:
        raise OcbenchError(f"stack mode {mode!r} is not one of {', '.join(STACK_MODES)}")
    if mode != "auto":
        return mode == "always"
    if device == "cpu":
        return False
    from ..training import resolve_device  # here: a CPU batch decides without importing torch

    return resolve_device(device).type == "cuda"


def stackable(spec) -> bool:
    """Methods whose detector class declares ``stackable`` (``detectors.deep.fit_stacked``): Deep SVDD, Deep SAD."""
    return spec.deep and spec.fits and spec.builds == "encoder" and getattr(spec.detector, "stackable", False)


def _groups(items, key) -> list[list]:
    """``items`` grouped by ``key``, in first-seen order; groups of one are dropped (nothing to stack)."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return [group for group in groups.values() if len(group) > 1]


def _timed_stack(what: str, detectors, xs, ys=None):
    """Fit ``detectors`` as one stack; return each one's share of the wall and CPU seconds, or None on failure."""
    # here, not at the top: stacks train only on a GPU batch; a shallow batch never imports torch
    from ..detectors.deep import fit_stacked
    from ..training import set_up_training_process

    set_up_training_process()
    try:
        with Clock() as clock:
            fit_stacked(detectors, xs, ys)
    except Exception as err:  # noqa: BLE001 - the runs are then trained alone, each failure on its own
        log.warning("the stack of %d %s failed (%s); its runs are trained one by one", len(detectors), what,
                    failure_reason(err))
        return None
    share = {"train_time_s": clock.wall / len(detectors), "train_cpu_s": clock.cpu / len(detectors),
             "stack_size": len(detectors)}
    log.info("%d %s trained as one stack in %.2fs (CPU %.2fs)", len(detectors), what, clock.wall, clock.cpu)
    return share


def fit_stacks(plans: list[SplitPlan]) -> tuple[dict, dict]:
    """Train the stackable runs of a batch job's split ``plans`` as stacks.

    Returns ``(prefit, data)``: the fitted detector of each stacked run by run
    directory (for ``method_run.run_method``'s ``fitted``), and each loaded split's data
    by plan position. The stacked autoencoders are saved with their records, so that
    ``run_batch`` reuses them like any up-to-date autoencoder.
    """
    from ..detectors.autoencoder import AutoencoderDetector  # here: see _timed_stack

    todo = {i: runs_to_fit(plan)[1] for i, plan in enumerate(plans)}
    wanted = {i for i, items in todo.items()
              if any(stackable(method_spec(run.method)) or run.uses_autoencoder for run, _ in items)}
    data = {}
    for i in sorted(wanted):
        try:
            data[i] = load_run_data(plans[i].prepared, plans[i].split, plans[i].preprocessing)
        except Exception:  # noqa: BLE001 - an unreadable split: run_batch loads it again and records
            continue       # the failure of each of its runs

    # the splits' autoencoders that must be trained: one stack per (net, settings, training-set size)
    requests = {i: next((r["autoencoder"] for run, r in todo[i] if run.uses_autoencoder), None) for i in data}
    pending = [i for i in data if requests[i] is not None and autoencoder_record(plans[i], requests[i]) is None]
    for group in _groups(pending, lambda i: (plans[i].autoencoder.net,
                                             json.dumps(plans[i].autoencoder.params, sort_keys=True),
                                             len(data[i].x_train))):
        detectors = [AutoencoderDetector(net=plans[i].autoencoder.net, device=plans[i].device,
                                         seed=int(plans[i].seed), **plans[i].autoencoder.params)
                     for i in group]
        share = _timed_stack("autoencoders", detectors, [data[i].x_train for i in group])
        for detector, i in zip(detectors, group if share else []):
            with atomic_path(plans[i].autoencoder.path) as tmp:
                detector.save(tmp)
            write_autoencoder_record(plans[i], requests[i], {k: share[k] for k in ("train_time_s", "train_cpu_s")})

    # then each deep method: one stack per (method, hyper-parameters, net, training-set size),
    # of the runs whose autoencoder is current (one left to train is trained by run_batch first)
    current = {i for i in data if requests[i] is not None and autoencoder_record(plans[i], requests[i]) is not None}
    runs = [(i, run) for i in data for run, _ in todo[i] if stackable(method_spec(run.method))
            and (not run.uses_autoencoder or i in current)]
    prefit = {}
    for group in _groups(runs, lambda item: (item[1].method, json.dumps(item[1].hyper_parameters, sort_keys=True),
                                             item[1].net, len(data[item[0]].x_train))):
        method = group[0][1].method
        detectors = [method_spec(method).factory(
            dict(run.hyper_parameters), net=run.net, device=plans[i].device, seed=int(plans[i].seed),
            autoencoder=plans[i].autoencoder.path if run.uses_autoencoder else None) for i, run in group]
        labels = [np.asarray(data[i].semi_train) for i, _ in group] if detectors[0].uses_labels else None
        share = _timed_stack(f"{method} runs", detectors, [data[i].x_train for i, _ in group], labels)
        for detector, (_, run) in zip(detectors, group if share else []):
            prefit[run.run_dir] = dict(share, detector=detector)
    return prefit, data
