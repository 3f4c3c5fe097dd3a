"""The shared autoencoder of a split: trained once, saved with the request that made it, reused while it holds.

Deep SVDD, Deep SAD, the hybrid baselines and CAE read the autoencoder of their split;
a batch trains it once (or reuses it) before its runs, and ``autoencoder.json`` beside
the file keeps its request and training seconds, so a reused one still reports them.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..data import load_run_data
from ..files import atomic_path, write_json
from .measure import Clock
from .plan import SplitPlan
from .uptodate import autoencoder_record

log = logging.getLogger("ocbench.jobs")


def pretrain(prepared, split, preprocessing: str, net: str, device: str, seed: int, params: dict, out) -> None:
    """The ``ocbench pretrain`` job: train the autoencoder of one split and save it to ``out``."""
    train_autoencoder(load_run_data(prepared, split, preprocessing), net, device, seed, params, out)


def train_autoencoder(data, net: str, device: str, seed: int, params: dict, out) -> Clock:
    """Fit the autoencoder on ``data.x_train``, save it to ``out``; return its training ``Clock``."""
    # here, not at the top: a batch of shallow methods never imports torch
    from ..detectors.autoencoder import AutoencoderDetector
    from ..training import set_up_training_process

    detector = AutoencoderDetector(net=net, device=device, seed=int(seed), **params)
    set_up_training_process()  # once per process, before the clock
    with Clock() as clock:
        detector.fit(data.x_train)
    log.info("autoencoder %s trained on %d samples in %.2fs (CPU %.2fs)", net, len(data.x_train), clock.wall,
             clock.cpu)
    with atomic_path(out) as tmp:
        detector.save(tmp)
    return clock


def write_autoencoder_record(plan: SplitPlan, request: dict, seconds: dict) -> None:
    """Record what made the plan's autoencoder file and its training seconds (read back on reuse)."""
    write_json(Path(plan.autoencoder.path).with_suffix(".json"), {"request": request, **seconds})


def ensure_autoencoder(plan: SplitPlan, data, request: dict) -> dict:
    """The shared autoencoder of ``request``: reused when its record matches, else trained.

    Returns its training seconds, ``train_time_s`` and ``train_cpu_s``.
    """
    record = autoencoder_record(plan, request)
    if record is not None:
        log.info("autoencoder %s reused (same settings and inputs)", plan.autoencoder.path)
        return {key: record.get(key) for key in ("train_time_s", "train_cpu_s")}
    ae = plan.autoencoder
    clock = train_autoencoder(data, ae.net, plan.device, plan.seed, ae.params, ae.path)
    seconds = {"train_time_s": clock.wall, "train_cpu_s": clock.cpu}
    write_autoencoder_record(plan, request, seconds)
    return seconds


def encode(autoencoder_path, device: str, *arrays):
    """The pretrained encoder's codes of each array (the hybrid baselines' inputs)."""
    from ..detectors.autoencoder import AutoencoderDetector  # here: only the hybrid methods need torch

    encoder = AutoencoderDetector.load(autoencoder_path, device=device)
    return [encoder.transform(x) for x in arrays]
