"""One workflow job = one function: fetch, prepare, split, pretrain, run a method.

Each function reads files, writes files, and never leaves a half-written one behind:
every file is written to a temporary name beside its destination and renamed into
place, and a run directory is assembled in a temporary directory that replaces the
old one only once every file of the run exists. A failed job therefore leaves the
previous results as they were.

Imports of the heavy libraries (torch, scikit-learn) happen inside the functions, so
a job pays only for what it uses.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import OcbenchError

log = logging.getLogger("ocbench.runs")


# --------------------------------------------------------------------------- atomic files

@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); rename it onto ``path`` on success.

    The suffix is kept because some writers append their own (``np.savez`` adds ``.npz``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(handle)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are for every reader
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    return repr(value)


@contextlib.contextmanager
def staged_directory(final):
    """Yield an empty temporary directory that replaces ``final`` once the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.tmp-"))
    try:
        yield stage
        os.chmod(stage, 0o755)  # mkdtemp makes 0700
        _replace_directory(stage, final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _replace_directory(stage: Path, final: Path) -> None:
    # rename() onto an existing non-empty directory fails, so the old one steps aside
    # first and is removed only after the new one is in place.
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
        os.replace(final, old / final.name)
        os.replace(stage, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(stage, final)


# --------------------------------------------------------------------------- data jobs

def fetch_dataset(name: str, raw_dir, mirror=None, done=None) -> None:
    """Put the verified raw files of ``name`` in ``raw_dir``; write the ``done`` marker."""
    from .data.sources import dataset_source

    source = dataset_source(name)
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    source.fetch(raw_dir, Path(mirror) if mirror else None)
    files = sorted(str(p.relative_to(raw_dir)) for p in raw_dir.rglob("*") if p.is_file() and p.name != ".fetched")
    log.info("dataset %s: %d raw files in %s", name, len(files), raw_dir)
    if done is not None:
        write_json(done, {"dataset": name, "files": files})


def prepare(name: str, raw_dir, mirror, out) -> None:
    """Write the prepared ``.npz`` of ``name`` (docs/architecture.md) to ``out``."""
    from .data.prepared import prepare_dataset

    with atomic_path(out) as tmp:
        prepare_dataset(name, Path(raw_dir), Path(mirror) if mirror else None, tmp)
    log.info("dataset %s prepared in %s", name, out)


def split(dataset: str, prepared, normal_classes, seed: int, params: dict, out) -> None:
    """Draw the split of one (dataset, setting, normal classes, seed) and save it to ``out``."""
    from .data.prepared import load_prepared
    from .data.sources import dataset_source
    from .data.splits import make_split, save_split

    source = dataset_source(dataset)
    data = load_prepared(prepared)
    drawn = make_split(data, source.kind, list(normal_classes), int(seed), **params)
    with atomic_path(out) as tmp:
        save_split(drawn, tmp)
    log.info("split of %s, normal classes %s, seed %s saved to %s", dataset, normal_classes, seed, out)


# --------------------------------------------------------------------------- training jobs

def pretrain(prepared, split, preprocessing: str, net: str, device: str, seed: int, params: dict, out) -> None:
    """Train the autoencoder shared by the methods of one split and save it to ``out``."""
    from .data import load_run_data
    from .detectors.autoencoder import AutoencoderDetector

    data = load_run_data(prepared, split, preprocessing)
    detector = AutoencoderDetector(net=net, device=device, seed=int(seed), **params)
    start = time.perf_counter()
    detector.fit(data.x_train)
    log.info("autoencoder %s trained on %d samples in %.2fs", net, len(data.x_train), time.perf_counter() - start)
    with atomic_path(out) as tmp:
        detector.save(tmp)


def _encode(autoencoder_path, device: str, *arrays):
    """The pretrained encoder's codes of each array (the hybrid baselines' inputs)."""
    from .detectors.autoencoder import AutoencoderDetector

    encoder = AutoencoderDetector.load(autoencoder_path, device=device)
    return [encoder.transform(x) for x in arrays]


def model_state(detector, params: dict) -> dict:
    """What ``model.pt`` holds: network weights and the fitted tensors and numbers (c_, R_, ...)."""
    import torch

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


def _write_scores(path, index, labels, scores) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write("index,label,score\n")
        for i, y, s in zip(index, labels, scores):
            handle.write(f"{int(i)},{int(y)},{float(s)!r}\n")


def run_method(method: str, prepared, split, preprocessing: str, net: str, device: str, seed: int,
               params: dict, autoencoder, validation_fraction: float, outdir, *,
               dataset: str | None = None, setting: str | None = None, normal_classes=None) -> dict:
    """Fit and score one method on one split; write the run directory ``outdir``; return the metrics.

    ``autoencoder`` is the pretrained autoencoder file or None. Hybrid methods fit on
    its codes; methods that select a hyper-parameter on labelled data
    (``uses_validation``) take a held-out share of the test split, which is then left
    out of the evaluation.
    """
    from .data import load_run_data
    from .detectors import method_spec
    from .metrics import peak_memory_mb, run_metrics, versions

    spec = method_spec(method)
    seed = int(seed)
    if (spec.hybrid or not spec.fits) and autoencoder is None:
        raise OcbenchError(f"method {method!r} needs the pretrained autoencoder; pass its file")
    data = load_run_data(prepared, split, preprocessing)
    semi = np.asarray(data.semi_train)
    if spec.needs_labels and not np.any(semi != 0):
        raise OcbenchError(f"method {method!r} is semi-supervised but split {split} has no labelled "
                           "training samples (all semi-labels are 0); use a setting with known samples")

    x_train, x_test = data.x_train, data.x_test
    y_test, test_index = np.asarray(data.y_test), np.asarray(data.test_index)
    start = time.perf_counter()
    if spec.hybrid:
        x_train, x_test = _encode(autoencoder, device, x_train, x_test)
    encode_time = time.perf_counter() - start

    detector = spec.factory(dict(params), net=net, device=device, seed=seed, autoencoder=autoencoder)
    evaluated = np.arange(len(y_test))
    fit_args: tuple = (x_train, semi if detector.uses_labels else None)
    fit_kwargs: dict = {}
    n_validation = 0
    if getattr(detector, "uses_validation", False):
        from .detectors.shallow import holdout_validation

        val_idx, evaluated = holdout_validation(len(y_test), y_test, validation_fraction, seed)
        fit_args += (x_test[val_idx], y_test[val_idx])
        n_validation = len(val_idx)
    if getattr(detector, "clusters", None) == "labels":
        fit_kwargs["groups"] = np.asarray(data.train_class)

    start = time.perf_counter()
    if spec.fits:
        detector.fit(*fit_args, **fit_kwargs)
    train_time = time.perf_counter() - start + encode_time
    start = time.perf_counter()
    scores = np.asarray(detector.decision_function(x_test[evaluated]), dtype=np.float64)
    test_time = time.perf_counter() - start
    labels = y_test[evaluated]
    if not np.all(np.isfinite(scores)):
        raise OcbenchError(f"method {method!r} gave {int(np.sum(~np.isfinite(scores)))} non-finite scores")

    metrics = run_metrics(labels, scores, float(detector.threshold_))
    metrics.update(
        train_time_s=train_time, test_time_s=test_time, peak_memory_mb=peak_memory_mb(), status="ok",
        versions=versions(), dataset=dataset, setting=setting,
        normal_classes=list(normal_classes) if normal_classes is not None else None,
        seed=seed, method=method, device=device, n_train=len(x_train), n_test=len(evaluated),
        n_validation=n_validation)
    resolved = {"method": method, "hyper_parameters": params, "net": net, "preprocessing": preprocessing,
                "device": device, "seed": seed, "autoencoder": str(autoencoder) if autoencoder else None,
                "validation_fraction": validation_fraction if n_validation else None,
                "fitted": fitted_values(detector)}

    with staged_directory(outdir) as stage:
        _write_scores(stage / "scores.csv", test_index[evaluated], labels, scores)
        write_json(stage / "metrics.json", metrics)
        write_json(stage / "params.json", resolved)
        if spec.deep:
            import torch

            torch.save(model_state(detector, resolved), stage / "model.pt")
    log.info("%s on %s/%s/%s seed %d: AUROC %.4f (train %.2fs, test %.2fs)", method, dataset, setting,
             normal_classes, seed, metrics.get("auroc", float("nan")), train_time, test_time)
    return metrics
