"""One workflow job = one function: fetch, prepare, split, pretrain, run a method, run a batch.

Each function reads files, writes files, and never leaves a half-written one behind:
every file is written to a temporary name beside its destination and renamed into
place, and a run directory is assembled in a temporary directory that replaces the
old one only once every file of the run exists. A failed job therefore leaves the
previous results as they were.

Imports of the heavy libraries (torch, scikit-learn) happen inside the functions, so
a job pays only for what it uses.

``run_batches`` is the workflow's training job: the runs of one (dataset, setting,
seed) on one device, split by split (``run_batch``), in one process
(docs/architecture.md, "Batches"). It refits only the runs whose resolved
parameters or inputs changed, and a run that fails leaves a ``failed.json`` record
beside the previous good files instead of replacing them.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from .errors import OcbenchError
from .io import atomic_path, json_default, save_torch, staged_directory, write_json
from .paths import FAILED_RECORD, METRICS, MODEL, PARAMS, SCORES

log = logging.getLogger("ocbench.runs")


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
    if params.get("anomaly_datasets"):  # the multi-class setting (data/ood.py)
        from .data.ood import make_anomaly_split_from_files
        drawn = make_anomaly_split_from_files(prepared, data, dataset, list(normal_classes), int(seed), params)
    elif params.get("attack"):  # adversarial examples as the anomalies (data/adversarial.py)
        from .data.adversarial import make_attack_split_from_files
        drawn = make_attack_split_from_files(prepared, data, dataset, list(normal_classes), int(seed), params)
    elif params.get("transductive") is not None:  # scored on its training images (the OC-NN authors' protocol)
        from .data.splits import make_transductive_split
        drawn = make_transductive_split(data, list(normal_classes), int(seed), **params)
    else:
        drawn = make_split(data, source.kind, list(normal_classes), int(seed), **params)
    with atomic_path(out) as tmp:
        save_split(drawn, tmp)
    log.info("split of %s, normal classes %s, seed %s saved to %s", dataset, normal_classes, seed, out)


def train_classifier(prepared, seed: int, params: dict, out) -> None:
    """Train the classifier that the attacks of one (dataset, seed) attack, on every training image; save it.

    ``params``: ``training.classifier``, its optimiser settings and its ``device``."""
    from .data.adversarial import train_classifier as fit_classifier
    from .data.prepared import load_prepared
    from .training import TrainConfig, set_up_training_process

    settings = dict(params)
    device = settings.pop("device", "cpu")
    data = load_prepared(prepared)
    set_up_training_process()
    network, accuracy = fit_classifier(data["x_train"], data["y_train"], int(seed), TrainConfig(**settings),
                                       n_classes=int(max(data["y_train"].max(), data["y_test"].max())) + 1,
                                       device=device)
    log.info("classifier of %s, seed %s: training accuracy %.4f", prepared, seed, accuracy)
    network = network.cpu()  # the same file, whichever device trained it
    save_torch({"state_dict": network.state_dict(), "input_shape": list(data["x_train"].shape[1:]),
                "n_classes": int(network[-1].out_features), "seed": int(seed), "params": params,
                "train_accuracy": accuracy}, out)


def attack(prepared, classifier, seed: int, params: dict, out, device: str = "cpu") -> None:
    """Attack every test image of a prepared dataset against its classifier; save the 8-bit attacked images."""
    import torch

    from .data.adversarial import craft_attacked_images
    from .data.prepared import load_prepared, save_npz
    from .nets.classifier import classifier_network
    from .training import set_up_training_process

    state = torch.load(classifier, map_location="cpu", weights_only=True)
    network = classifier_network(state["input_shape"], state["n_classes"])
    network.load_state_dict(state["state_dict"])
    set_up_training_process()
    arrays = craft_attacked_images(network, load_prepared(prepared), params, int(seed), device)
    info = json.loads(str(arrays["info"]))
    log.info("attack %s of %s, seed %s: accuracy %.4f before, %.4f after; %.4f of the decisions changed",
             info["name"], prepared, seed, info["clean_accuracy"], info["attacked_accuracy"],
             info["changed_decisions"])
    save_npz(arrays, out)


# --------------------------------------------------------------------------- training jobs

def pretrain(prepared, split, preprocessing: str, net: str, device: str, seed: int, params: dict, out) -> None:
    """Train the autoencoder shared by the methods of one split and save it to ``out``."""
    from .data import load_run_data

    _train_autoencoder(load_run_data(prepared, split, preprocessing), net, device, seed, params, out)


class Clock:
    """Wall and CPU seconds of the blocks it times (``with clock:``), added up.

    CPU time is this process's, all threads: on a shared machine the wall time also
    counts the waits for a free core, the CPU time does not.
    """

    def __init__(self):
        self.wall = self.cpu = 0.0

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def _train_autoencoder(data, net: str, device: str, seed: int, params: dict, out) -> Clock:
    """Fit the shared autoencoder on ``data.x_train``, save it to ``out``; return its training ``Clock``."""
    from .detectors.autoencoder import AutoencoderDetector

    from .training import set_up_training_process

    detector = AutoencoderDetector(net=net, device=device, seed=int(seed), **params)
    set_up_training_process()  # once per process, before the clock
    with Clock() as clock:
        detector.fit(data.x_train)
    log.info("autoencoder %s trained on %d samples in %.2fs (CPU %.2fs)", net, len(data.x_train), clock.wall,
             clock.cpu)
    with atomic_path(out) as tmp:
        detector.save(tmp)
    return clock


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


def _detector_parameters(detector) -> dict:
    """Every constructor argument of the detector, defaults included (scikit-learn's ``get_params``)."""
    get_params = getattr(detector, "get_params", None)
    return dict(get_params(deep=False)) if get_params is not None else {}


def _write_scores(path, index, labels, scores) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write("index,label,score\n")
        for i, y, s in zip(index, labels, scores):
            handle.write(f"{int(i)},{int(y)},{float(s)!r}\n")


def run_method(method: str, prepared, split, preprocessing: str, net: str, device: str, seed: int,
               params: dict, autoencoder, outdir, *,
               dataset: str | None = None, setting: str | None = None, normal_classes=None,
               data=None, request: dict | None = None, pretrain: dict | None = None,
               fitted: dict | None = None) -> dict:
    """Fit and score one method on one split; write the run directory ``outdir``; return the metrics.

    ``autoencoder`` is the pretrained autoencoder file or None. Hybrid methods fit on
    its codes; methods that select a hyper-parameter on labelled data
    (``uses_validation``) fit on the split's validation share, and every method is
    scored on the split's evaluation positions (``RunData.evaluation``), so the methods
    of one split are compared on the same test samples. A batch passes the split's preprocessed ``data`` (loaded
    once), the run's resolved ``request`` (kept in ``params.json``, compared on the
    next rerun) and the shared autoencoder's training seconds ``pretrain``
    (``train_time_s``, ``train_cpu_s``; recorded as ``pretrain_time_s`` and
    ``pretrain_cpu_s``: CAE itself trains nothing). Times are wall seconds; the
    ``*_cpu_s`` twins are this process's CPU seconds. ``fitted`` is a detector of this
    run already fitted in a stack (``fit_stacks``: ``detector``, its share of the
    stack's ``train_time_s`` and ``train_cpu_s``, ``stack_size``); it is scored and
    recorded like one fitted here.
    """
    from .data import load_run_data
    from .data.splits import protocol_of
    from .detectors import method_spec
    from .metrics import peak_memory_mb, run_metrics, versions

    spec = method_spec(method)
    seed = int(seed)
    if (spec.hybrid or not spec.fits) and autoencoder is None:
        raise OcbenchError(f"method {method!r} needs the pretrained autoencoder; pass its file")
    if data is None:
        data = load_run_data(prepared, split, preprocessing)
    semi = np.asarray(data.semi_train)
    if spec.needs_labels and not np.any(semi != 0):
        raise OcbenchError(f"method {method!r} is semi-supervised but split {split} has no labelled "
                           "training samples (all semi-labels are 0); use a setting with known samples")

    x_train, x_test = data.x_train, data.x_test
    y_test, test_index = np.asarray(data.y_test), np.asarray(data.test_index)
    if spec.deep or spec.hybrid:
        from .training import set_up_training_process

        set_up_training_process()  # once per process, before the clock
    fit_clock, score_clock = Clock(), Clock()
    with fit_clock:  # the hybrids' encoding is part of their fit
        if spec.hybrid:
            x_train, x_test = _encode(autoencoder, device, x_train, x_test)

    detector = fitted["detector"] if fitted else spec.factory(dict(params), net=net, device=device, seed=seed,
                                                             autoencoder=autoencoder)
    evaluated = np.asarray(data.evaluation)
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
    with score_clock:
        scores = np.asarray(detector.decision_function(x_test[evaluated]), dtype=np.float64)
    train_time, test_time = fit_clock.wall, score_clock.wall
    labels = y_test[evaluated]
    if not np.all(np.isfinite(scores)):
        raise OcbenchError(f"method {method!r} gave {int(np.sum(~np.isfinite(scores)))} non-finite scores")

    metrics = run_metrics(labels, scores, float(detector.threshold_))
    metrics.update(
        train_time_s=train_time, test_time_s=test_time, train_cpu_s=fit_clock.cpu, test_cpu_s=score_clock.cpu,
        peak_memory_mb=peak_memory_mb(), status="ok",
        versions=versions(), dataset=dataset, setting=setting,
        normal_classes=list(normal_classes) if normal_classes is not None else None,
        seed=seed, method=method, device=device, n_train=len(x_train), n_test=len(evaluated),
        n_validation=n_validation, stack_size=fitted["stack_size"] if fitted else 1,
        pretrain_time_s=(pretrain or {}).get("train_time_s"),
        pretrain_cpu_s=(pretrain or {}).get("train_cpu_s"),
        known_outlier_classes=data.split_info.get("known_outlier_classes", []),
        anomaly_datasets=data.split_info.get("anomaly_datasets", []), protocol=protocol_of(data.split_info))
    if spec.deep or spec.hybrid:
        metrics.update(_device_record(detector, device))
    resolved = {"method": method, "hyper_parameters": params, "net": net, "preprocessing": preprocessing,
                "device": device, "seed": seed, "autoencoder": str(autoencoder) if autoencoder else None,
                "validation_fraction": data.split_info.get("validation_fraction") if n_validation else None,
                "detector_parameters": _detector_parameters(detector), "fitted": fitted_values(detector)}
    if request is not None:
        resolved["request"] = request

    with staged_directory(outdir) as stage:
        _write_scores(stage / SCORES, test_index[evaluated], labels, scores)
        write_json(stage / METRICS, metrics)
        write_json(stage / PARAMS, resolved)
        if spec.deep:
            save_torch(model_state(detector, resolved), stage / MODEL)
    log.info("%s on %s/%s/%s seed %d: AUROC %.4f (train %.2fs, test %.2fs)", method, dataset, setting,
             normal_classes, seed, metrics.get("auroc", float("nan")), train_time, test_time)
    return metrics


def _device_record(detector, device: str) -> dict:
    """The device a run used (``auto`` resolved), its GPU's name, and whether it trained deterministically."""
    import torch

    from .training import deterministic_mode, resolve_device

    used = getattr(detector, "device_", None) or resolve_device(device)
    used = torch.device(used)
    record = {"device_used": used.type, "gpu_name": torch.cuda.get_device_name(used) if used.type == "cuda" else None}
    record.update(deterministic_mode(used))
    return record


# --------------------------------------------------------------------------- batches

_PLAN_KEYS = ("dataset", "setting", "normal_classes", "seed", "device", "prepared", "split", "split_params",
              "preprocessing", "autoencoder", "runs")
_ENTRY_KEYS = ("method", "run_dir", "hyper_parameters", "net", "uses_autoencoder")


def _canonical(value):
    """``value`` as it reads back from JSON (tuples become lists), so a stored record compares equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=json_default))


def check_plan(plan) -> dict:
    """Refuse a plan that lacks a key, with one line naming it."""
    if not isinstance(plan, dict):
        raise OcbenchError(f"a batch plan must be a JSON object, got {type(plan).__name__}")
    missing = [key for key in _PLAN_KEYS if key not in plan]
    if missing:
        raise OcbenchError(f"batch plan lacks {', '.join(missing)}; it needs {', '.join(_PLAN_KEYS)}")
    for i, entry in enumerate(plan["runs"]):
        missing = [key for key in _ENTRY_KEYS if key not in entry]
        if missing:
            raise OcbenchError(f"batch plan run {i} lacks {', '.join(missing)}; it needs {', '.join(_ENTRY_KEYS)}")
    return plan


def autoencoder_request(plan: dict, inputs: dict) -> dict:
    """What makes the shared autoencoder what it is: its settings, the split's inputs, seed and device."""
    ae = plan["autoencoder"]
    request = {"net": ae["net"], "params": ae["params"], "device": plan["device"], "seed": plan["seed"],
               "preprocessing": plan["preprocessing"], "inputs": inputs}
    if "code" in ae:  # the code that trains it (code_version.autoencoder_version); absent in plans written by hand
        request["code"] = ae["code"]
    return _canonical(request)


def run_request(plan: dict, entry: dict, inputs: dict) -> dict:
    """A run's full resolved configuration and the fingerprints of its inputs.

    Stored in ``params.json`` (key ``request``); a rerun skips the run while this is
    unchanged. ``inputs`` holds the sha256 of the prepared data and of the split; the
    autoencoder enters by its own request (the same settings on the same inputs give
    the same autoencoder), and the entry's ``code`` (``code_version.run_version``, which
    the workflow sets) ties the run to the version of the code that computed it.
    """
    request = {
        "dataset": plan["dataset"], "setting": plan["setting"], "normal_classes": plan["normal_classes"],
        "seed": plan["seed"], "device": plan["device"], "split_params": plan["split_params"],
        "preprocessing": plan["preprocessing"], "method": entry["method"],
        "hyper_parameters": entry["hyper_parameters"], "net": entry["net"], "inputs": inputs,
        "autoencoder": autoencoder_request(plan, inputs) if entry["uses_autoencoder"] else None,
    }
    if "code" in entry:
        request["code"] = entry["code"]
    return _canonical(request)


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def is_up_to_date(run_dir, request: dict) -> bool:
    """Whether ``run_dir`` holds a good result of exactly ``request``.

    A ``failed.json`` of another request is stale once a good result of this request
    is there (the config went back to parameters that had worked): it is removed.
    """
    run_dir = Path(run_dir)
    params = _read_json(run_dir / PARAMS)
    metrics = _read_json(run_dir / METRICS)
    if not (params and metrics and (run_dir / SCORES).is_file()):
        return False
    if params.get("request") != request or metrics.get("status") != "ok":
        return False
    failed = run_dir / FAILED_RECORD
    if failed.exists():
        record = _read_json(failed)
        if record is not None and record.get("request") == request:
            return False  # the latest attempt of this very request failed: try again
        failed.unlink()
    return True


def write_failure(run_dir, plan: dict, entry: dict, request: dict, reason: str) -> None:
    """Record a failed attempt in ``run_dir/failed.json``; the run's other files stay as they were."""
    write_json(Path(run_dir) / FAILED_RECORD, {
        "status": "failed", "reason": reason, "dataset": plan["dataset"], "setting": plan["setting"],
        "normal_classes": plan["normal_classes"], "seed": plan["seed"], "method": entry["method"],
        "device": plan["device"], "request": request})


def _reason(err: BaseException) -> str:
    """A failure's one-line reason; an error not raised by ocbench is named by its type (MemoryError: ...)."""
    from .io import one_line

    return one_line(err) if isinstance(err, OcbenchError) else f"{type(err).__name__}: {one_line(err)}"


def _remove_stale_stages(run_dir: Path) -> None:
    """Staging directories left by a killed job (``staged_directory``) of this run."""
    if run_dir.parent.is_dir():
        for stale in run_dir.parent.glob(f".{run_dir.name}.*-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _reset_peak_memory() -> None:
    # Linux: reset the process's peak resident set size, so that each run of a batch
    # records its own peak (plus the split's data, which every run holds).
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def autoencoder_record(plan: dict, request: dict) -> dict | None:
    """The record beside the plan's autoencoder file when that file was made by ``request``, else None."""
    path = Path(plan["autoencoder"]["path"])
    record = _read_json(path.with_suffix(".json"))
    if path.is_file() and record is not None and record.get("request") == request:
        return record
    return None


def write_autoencoder_record(plan: dict, request: dict, seconds: dict) -> None:
    """Record what made the plan's autoencoder file and its training seconds (read back on reuse)."""
    write_json(Path(plan["autoencoder"]["path"]).with_suffix(".json"), {"request": request, **seconds})


def _ensure_autoencoder(plan: dict, data, request: dict) -> dict:
    """The shared autoencoder of ``request``: reused when its record matches, else trained.

    Returns its training seconds, ``train_time_s`` and ``train_cpu_s`` (recorded beside
    it, so a reused one still reports them).
    """
    ae = plan["autoencoder"]
    record = autoencoder_record(plan, request)
    if record is not None:
        log.info("autoencoder %s reused (same settings and inputs)", ae["path"])
        return {key: record.get(key) for key in ("train_time_s", "train_cpu_s")}
    clock = _train_autoencoder(data, ae["net"], plan["device"], plan["seed"], ae["params"], ae["path"])
    seconds = {"train_time_s": clock.wall, "train_cpu_s": clock.cpu}
    write_autoencoder_record(plan, request, seconds)
    return seconds


def plan_todo(plan: dict) -> tuple[list, list]:
    """Every ``(entry, request)`` of a split plan, and those not up to date (to fit)."""
    from .io import sha256_file

    inputs = {"prepared": sha256_file(plan["prepared"]), "split": sha256_file(plan["split"])}
    entries = [(entry, run_request(plan, entry, inputs)) for entry in plan["runs"]]
    return entries, [(entry, request) for entry, request in entries if not is_up_to_date(entry["run_dir"], request)]


def run_batch(plan: dict, manifest=None, *, prefit: dict | None = None, data=None) -> dict:
    """Fit and score the runs of one split on one device (``config.batch_plan``) in this process.

    A run whose ``params.json`` holds the same request (``run_request``) and a good
    result is skipped; the others are fitted, each into its own run directory. The
    split is loaded and preprocessed once, and the shared autoencoder trained once
    (or reused), only when some run needs it. Any error of one run (a diverging or
    non-finite loss, a solver error, running out of memory) is recorded in that run's
    ``failed.json`` with a one-line reason and the batch goes on; the previous good
    files of the run are left as they were. Returns the manifest (each run directory
    and its status) and writes it to ``manifest`` when given. ``prefit`` maps run
    directories to detectors fitted in a stack (``stacks.fit_stacks``), ``data`` is the
    split's data when already loaded.
    """
    from .detectors import method_spec

    check_plan(plan)
    entries, todo = plan_todo(plan)
    log.info("batch %s/%s/%s seed %s on %s: %d runs, %d to fit", plan["dataset"], plan["setting"],
             plan["normal_classes"], plan["seed"], plan["device"], len(entries), len(todo))
    failures: dict[str, str] = {}
    if todo:
        failures = _fit_batch(plan, todo, method_spec, prefit or {}, data)
    runs = []
    for entry, _ in entries:
        reason = failures.get(entry["run_dir"])
        runs.append({"method": entry["method"], "run_dir": entry["run_dir"],
                     "status": "failed" if reason else "ok", "reason": reason,
                     "record": str(Path(entry["run_dir"]) / (FAILED_RECORD if reason else METRICS))})
    result = {key: plan[key] for key in ("dataset", "setting", "normal_classes", "seed", "device")}
    result["runs"] = runs
    if failures:
        log.warning("%d of %d runs failed; their records: %s", len(failures), len(entries),
                    ", ".join(str(Path(d) / FAILED_RECORD) for d in failures))
    if manifest is not None:
        write_json(manifest, result)
    return result


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
    from .training import resolve_device

    return resolve_device(device).type == "cuda"


def run_batches(job: dict, manifest=None) -> dict:
    """Run the split plans of one batch job (``{"splits": config.batch_plans(...)}``) in turn.

    Each split is ``run_batch`` (its unchanged runs skipped, a failing run recorded in
    its own ``failed.json`` while the others go on), all in this process, so the job
    pays its imports once for all its splits. Every plan is checked before any run
    starts. Where ``job["stack"]`` asks for it (``stacking``), the deep runs of equal
    settings and training-set sizes across the splits first train as stacks
    (``stacks.fit_stacks``), then every run is scored and recorded as usual. Returns one manifest, every run of every split with its normal classes and
    status, and writes it to ``manifest`` when given.
    """
    plans = job.get("splits") if isinstance(job, dict) else None
    if not isinstance(plans, list) or not plans:
        raise OcbenchError('a batch job plan must be a JSON object {"splits": [split plan, ...]} '
                           "with at least one split plan")
    for plan in plans:
        check_plan(plan)
    prefit, data = {}, {}
    if stacking(job.get("stack", "auto"), plans[0]["device"]) and len(plans) > 1:
        from .stacks import fit_stacks

        prefit, data = fit_stacks(plans)
    runs = []
    for i, plan in enumerate(plans):
        done = run_batch(plan, prefit=prefit, data=data.get(i))
        runs += [dict(run, normal_classes=done["normal_classes"]) for run in done["runs"]]
    first = plans[0]
    result = {key: first[key] for key in ("dataset", "setting", "seed", "device")}
    result["runs"] = runs
    if manifest is not None:
        write_json(manifest, result)
    return result


def _fit_batch(plan: dict, todo: list, method_spec, prefit: dict, data) -> dict[str, str]:
    """Fit the runs of ``todo``; return the reason of each failed run by run directory."""
    from .data import load_run_data

    failures: dict[str, str] = {}

    def fail(entry, request, reason):
        failures[entry["run_dir"]] = reason
        log.error("%s failed: %s", entry["run_dir"], reason)
        write_failure(entry["run_dir"], plan, entry, request, reason)

    try:
        # Import every detector before the first clock starts: a run's train_time_s counts training only.
        for entry, _ in todo:
            method_spec(entry["method"]).detector
        if data is None:
            data = load_run_data(plan["prepared"], plan["split"], plan["preprocessing"])
    except Exception as err:  # noqa: BLE001 - every run of the batch is recorded as failed
        log.exception("batch inputs failed")
        for entry, request in todo:
            fail(entry, request, f"loading the split failed: {_reason(err)}")
        return failures

    pretrain, pretrain_error = None, None
    if plan["autoencoder"] is not None and any(entry["uses_autoencoder"] for entry, _ in todo):
        try:
            _reset_peak_memory()
            pretrain = _ensure_autoencoder(plan, data, next(r["autoencoder"] for e, r in todo
                                                                 if e["uses_autoencoder"]))
        except Exception as err:  # noqa: BLE001
            log.exception("autoencoder pretraining failed")
            pretrain_error = f"pretraining the shared autoencoder failed: {_reason(err)}"

    for entry, request in todo:
        run_dir = Path(entry["run_dir"])
        _remove_stale_stages(run_dir)
        if entry["uses_autoencoder"] and pretrain_error:
            fail(entry, request, pretrain_error)
            continue
        try:
            _reset_peak_memory()
            run_method(entry["method"], plan["prepared"], plan["split"], plan["preprocessing"], entry["net"],
                       plan["device"], plan["seed"], dict(entry["hyper_parameters"]),
                       plan["autoencoder"]["path"] if entry["uses_autoencoder"] else None, run_dir,
                       dataset=plan["dataset"], setting=plan["setting"], normal_classes=plan["normal_classes"],
                       data=data, request=request,
                       pretrain=pretrain if entry["uses_autoencoder"] else None,
                       fitted=prefit.get(entry["run_dir"]))
        except Exception as err:  # noqa: BLE001 - one run's failure must not stop the others
            log.exception("%s on the batch's split failed", entry["method"])
            fail(entry, request, _reason(err))
    return failures
