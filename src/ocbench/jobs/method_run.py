"""One method on one split: fit, score, and write the run directory (docs/architecture.md, "Run directory").

A run directory is assembled in a staging directory that replaces the old one only
once every file exists (``io.staged_directory``): a run that fails halfway leaves the
previous result as it was.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import RunData, load_run_data
from ..data.splits import protocol_of
from ..detectors import method_spec
from ..errors import OcbenchError
from ..files import atomic_path, save_torch, staged_directory, write_json
from ..metrics import peak_memory_mb, run_metrics, versions
from ..paths import METRICS, MODEL, PARAMS, SCORES
from .measure import Clock
from .plan import RunPlan, SplitPlan
from .pretraining import encode

log = logging.getLogger("ocbench.jobs")


@dataclass
class _Scored:
    """A fitted detector's scores on the split's evaluation share, with the clocks of fit and scoring."""
    detector: object
    scores: np.ndarray
    labels: np.ndarray
    index: np.ndarray
    fit: Clock
    score: Clock
    n_train: int
    n_validation: int


def run_method(plan: SplitPlan, run: RunPlan, *, data: RunData | None = None, request: dict | None = None,
               pretrain: dict | None = None, fitted: dict | None = None) -> dict:
    """Fit and score ``run`` on the split of ``plan``; write its run directory; return its metrics.

    Hybrid methods fit on the codes of the split's autoencoder; methods that select a
    hyper-parameter on labelled data (``uses_validation``) fit on the split's validation
    share, and every method is scored on the split's evaluation positions
    (``RunData.evaluation``), so the methods of one split are compared on the same test
    samples. A batch passes the split's preprocessed ``data`` (loaded once), the run's
    resolved ``request`` (kept in ``params.json``, compared on the next rerun) and the
    shared autoencoder's training seconds ``pretrain`` (``train_time_s``,
    ``train_cpu_s``; recorded as ``pretrain_time_s`` and ``pretrain_cpu_s``: CAE itself
    trains nothing). ``fitted`` is a detector of this run already fitted in a stack
    (``stacks.fit_stacks``: ``detector``, its share of the stack's ``train_time_s`` and
    ``train_cpu_s``, ``stack_size``); it is scored and recorded like one fitted here.
    """
    spec = method_spec(run.method)
    autoencoder = plan.autoencoder.path if run.uses_autoencoder and plan.autoencoder else None
    if (spec.hybrid or not spec.fits) and autoencoder is None:
        raise OcbenchError(f"method {run.method!r} needs the pretrained autoencoder; pass its file")
    if data is None:
        data = load_run_data(plan.prepared, plan.split, plan.preprocessing)
    if spec.needs_labels and not np.any(np.asarray(data.semi_train) == -1):
        raise OcbenchError(f"method {run.method!r} learns from labelled anomalies but split {plan.split} has none "
                           "(no semi-label is -1); use a setting with ratio_known_outlier > 0")
    if spec.deep or spec.hybrid:
        from ..training import set_up_training_process  # here: a shallow run never imports torch

        set_up_training_process()  # once per process, before the clock
    scored = _fit_and_score(spec, plan, run, data, autoencoder, fitted)
    metrics = _run_metrics(spec, plan, run, data, scored, pretrain, fitted)
    resolved = {"method": run.method, "hyper_parameters": run.hyper_parameters, "net": run.net,
                "preprocessing": plan.preprocessing, "device": plan.device, "seed": int(plan.seed),
                "autoencoder": str(autoencoder) if autoencoder else None,
                "validation_fraction": data.split_info.get("validation_fraction") if scored.n_validation else None,
                "detector_parameters": _detector_parameters(scored.detector),
                "fitted": fitted_values(scored.detector)}
    if request is not None:
        resolved["request"] = request

    with staged_directory(run.run_dir) as stage:
        _write_scores(stage / SCORES, scored.index, scored.labels, scored.scores)
        write_json(stage / METRICS, metrics)
        write_json(stage / PARAMS, resolved)
        if spec.deep:
            save_torch(model_state(scored.detector, resolved), stage / MODEL)
    log.info("%s on %s/%s/%s seed %d: AUROC %.4f (train %.2fs, test %.2fs)", run.method, plan.dataset,
             plan.setting, plan.normal_classes, int(plan.seed), metrics.get("auroc", float("nan")),
             scored.fit.wall, scored.score.wall)
    return metrics


def _fit_and_score(spec, plan: SplitPlan, run: RunPlan, data: RunData, autoencoder, fitted: dict | None) -> _Scored:
    """Fit the run's detector (unless a stack fitted it) and score the split's evaluation share."""
    x_train, x_test = data.x_train, data.x_test
    y_test, test_index = np.asarray(data.y_test), np.asarray(data.test_index)
    semi = np.asarray(data.semi_train)
    fit_clock, score_clock = Clock(), Clock()
    with fit_clock:  # the hybrids' encoding is part of their fit
        if spec.hybrid:
            x_train, x_test = encode(autoencoder, plan.device, x_train, x_test)

    detector = fitted["detector"] if fitted else spec.factory(
        dict(run.hyper_parameters), net=run.net, device=plan.device, seed=int(plan.seed), autoencoder=autoencoder)
    fit_args: tuple = (x_train, semi if detector.uses_labels else None)
    fit_kwargs: dict = {}
    n_validation = 0
    if getattr(detector, "uses_validation", False):
        val_idx = np.asarray(data.validation)
        fit_args += (x_test[val_idx], y_test[val_idx])
        n_validation = len(val_idx)
    if getattr(detector, "clusters", None) == "labels":
        fit_kwargs["groups"] = np.asarray(data.train_class)

    if fitted:
        fit_clock.wall, fit_clock.cpu = fitted["train_time_s"], fitted["train_cpu_s"]
    else:
        with fit_clock:
            if spec.fits:
                detector.fit(*fit_args, **fit_kwargs)
    evaluated = np.asarray(data.evaluation)
    with score_clock:
        scores = np.asarray(detector.decision_function(x_test[evaluated]), dtype=np.float64)
    if not np.all(np.isfinite(scores)):
        raise OcbenchError(f"method {run.method!r} gave {int(np.sum(~np.isfinite(scores)))} non-finite scores")
    return _Scored(detector, scores, y_test[evaluated], test_index[evaluated], fit_clock, score_clock,
                   n_train=len(x_train), n_validation=n_validation)


def _run_metrics(spec, plan: SplitPlan, run: RunPlan, data: RunData, scored: _Scored, pretrain: dict | None,
                 fitted: dict | None) -> dict:
    """What ``metrics.json`` holds: the scores' metrics, times, memory, versions and the run's keys."""
    metrics = run_metrics(scored.labels, scored.scores, float(scored.detector.threshold_))
    metrics.update(
        train_time_s=scored.fit.wall, test_time_s=scored.score.wall, train_cpu_s=scored.fit.cpu,
        test_cpu_s=scored.score.cpu, peak_memory_mb=peak_memory_mb(), status="ok",
        versions=versions(), dataset=plan.dataset, setting=plan.setting,
        normal_classes=list(plan.normal_classes) if plan.normal_classes is not None else None,
        seed=int(plan.seed), method=run.method, device=plan.device, n_train=scored.n_train,
        n_test=len(scored.scores), n_validation=scored.n_validation,
        stack_size=fitted["stack_size"] if fitted else 1,
        pretrain_time_s=(pretrain or {}).get("train_time_s"),
        pretrain_cpu_s=(pretrain or {}).get("train_cpu_s"),
        known_outlier_classes=data.split_info.get("known_outlier_classes", []),
        anomaly_datasets=data.split_info.get("anomaly_datasets", []), protocol=protocol_of(data.split_info))
    if spec.deep or spec.hybrid:
        metrics.update(_device_record(scored.detector, plan.device))
    return metrics


def model_state(detector, params: dict) -> dict:
    """What ``model.pt`` holds: network weights and the fitted tensors and numbers (c_, R_, ...)."""
    import torch  # here: only deep runs write a model

    state = {"detector": type(detector).__name__, "params": params}
    for name, value in vars(detector).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        if isinstance(value, torch.nn.Module):
            state[name] = value.state_dict()
        elif isinstance(value, torch.Tensor):
            state[name] = value.detach().cpu()
        elif isinstance(value, (int, float, bool, str, list, tuple, np.ndarray, np.generic)):
            state[name] = value
    return state


def fitted_values(detector) -> dict:
    """Scalars chosen during ``fit`` (a selected gamma or bandwidth, the radius, the threshold)."""
    out = {}
    for name, value in vars(detector).items():
        if name.endswith("_") and not name.startswith("_"):
            if isinstance(value, (bool, int, float, str, np.generic)):
                out[name] = value.item() if isinstance(value, np.generic) else value
    return out


def _detector_parameters(detector) -> dict:
    """Every constructor argument of the detector, defaults included (scikit-learn's ``get_params``)."""
    get_params = getattr(detector, "get_params", None)
    return dict(get_params(deep=False)) if get_params is not None else {}


def _write_scores(path: Path, index, labels, scores) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write("index,label,score\n")
        for i, y, s in zip(index, labels, scores):
            handle.write(f"{int(i)},{int(y)},{float(s)!r}\n")


def _device_record(detector, device: str) -> dict:
    """The device a run used (``auto`` resolved), its GPU's name, and whether it trained deterministically."""
    import torch  # here: only deep and hybrid runs, which have imported it already

    from ..training import deterministic_mode, resolve_device

    used = getattr(detector, "device_", None) or resolve_device(device)
    used = torch.device(used)
    record = {"device_used": used.type, "gpu_name": torch.cuda.get_device_name(used) if used.type == "cuda" else None}
    record.update(deterministic_mode(used))
    return record
