"""What a job is, typed: the keys of runs and jobs, and a batch job's plan, with its JSON form.

``config.grid`` turns a validated config into these; the workflow writes each batch
job's plan to a file (``BatchPlan.to_json``) and ``ocbench run-batch`` reads it back
(``read_batch_plan``). This module is the one place where a plan becomes JSON and
JSON a plan: a plan file that lacks a key is refused in one line naming it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import OcbenchError
from ..files import atomic_path, one_line


# --------------------------------------------------------------------------- keys

@dataclass(frozen=True, order=True)
class Run:
    """One run: its fields fill the run-directory pattern (``paths.run_dir``)."""
    dataset: str
    setting: str
    normal: str
    seed: int
    method: str
    device: str


@dataclass(frozen=True, order=True)
class Pretrain:
    """One shared autoencoder: its fields fill the autoencoder's path pattern (``paths.autoencoder_file``)."""
    dataset: str
    setting: str
    normal: str
    seed: int
    net: str
    device: str


@dataclass(frozen=True, order=True)
class Batch:
    """The runs one workflow job fits in one process: every normal-class group of one
    (dataset, grid setting, seed) on one device.

    The process imports the detectors once, then for each split in turn loads and
    preprocesses it once, pretrains (or reuses) its shared autoencoder once and fits and
    scores each method into its own run directory. Methods that do not train on a device
    run under ``HOST_DEVICE``, so they join that device's batch.
    """
    dataset: str
    setting: str
    seed: int
    device: str


# --------------------------------------------------------------------------- plans

@dataclass(frozen=True)
class AutoencoderPlan:
    """The shared autoencoder of a split: its file, net and training settings, and ``code``,
    the version of the code that trains it (``code_version.autoencoder_version``; None in a
    plan written by hand)."""
    path: str
    net: str
    params: dict
    code: str | None = None


@dataclass(frozen=True)
class RunPlan:
    """One run of a split: its method, directory, resolved hyper-parameters, net (deep and
    hybrid methods), whether it reads the split's shared autoencoder, and ``code``, the version
    of the code it uses (``code_version.run_version``; None in a plan written by hand)."""
    method: str
    run_dir: str
    hyper_parameters: dict
    net: str | None
    uses_autoencoder: bool
    code: str | None = None


@dataclass(frozen=True)
class SplitPlan:
    """Everything the runs of one split on one device need, resolved (``config.batch_plan``).

    Each run's and the autoencoder's ``code`` enter their requests, so an edit of the code
    they use refits them (code_version.py).
    """
    dataset: str
    setting: str
    normal_classes: tuple[int, ...]
    seed: int
    device: str
    prepared: str
    split: str
    split_params: dict
    preprocessing: str
    autoencoder: AutoencoderPlan | None
    runs: tuple[RunPlan, ...]

    @property
    def batch(self) -> Batch:
        return Batch(self.dataset, self.setting, self.seed, self.device)

    def as_dict(self) -> dict:
        """The plan as JSON values (lists for tuples); a ``code`` only where set."""
        out = {name: getattr(self, name) for name in _SPLIT_KEYS}
        out["normal_classes"] = list(self.normal_classes)
        out["autoencoder"] = None if self.autoencoder is None else _without_unset_code(vars(self.autoencoder))
        out["runs"] = [_without_unset_code(vars(run)) for run in self.runs]
        return out

    @classmethod
    def from_dict(cls, value) -> SplitPlan:
        """A split plan from its JSON values; a missing key is one ``OcbenchError`` line naming it."""
        _require(value, _SPLIT_KEYS, "batch plan")
        runs = value["runs"]
        if not isinstance(runs, list):
            raise OcbenchError(f"batch plan runs must be a list of runs, got {type(runs).__name__}")
        for i, run in enumerate(runs):
            _require(run, _RUN_KEYS, f"batch plan run {i}")
        ae = value["autoencoder"]
        if ae is not None:
            _require(ae, _AUTOENCODER_KEYS, "batch plan autoencoder")
        return cls(
            dataset=value["dataset"], setting=value["setting"], normal_classes=tuple(value["normal_classes"]),
            seed=value["seed"], device=value["device"], prepared=str(value["prepared"]), split=str(value["split"]),
            split_params=value["split_params"], preprocessing=value["preprocessing"],
            autoencoder=None if ae is None else AutoencoderPlan(str(ae["path"]), ae["net"], ae["params"],
                                                                ae.get("code")),
            runs=tuple(RunPlan(**{key: run[key] for key in _RUN_KEYS}, code=run.get("code")) for run in runs))


@dataclass(frozen=True)
class BatchPlan:
    """A batch job's plan: its splits' plans, in order, and how its deep runs train
    (``training.stack``: ``auto``, ``always`` or ``never``; ``jobs.stacks.stacking``)."""
    splits: tuple[SplitPlan, ...]
    stack: str = "auto"

    @property
    def batch(self) -> Batch:
        return self.splits[0].batch

    def as_dict(self) -> dict:
        return {"splits": [plan.as_dict() for plan in self.splits], "stack": self.stack}

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): the same plan always gives the same text."""
        return canonical_json(self.as_dict())

    @classmethod
    def from_dict(cls, value) -> BatchPlan:
        splits = value.get("splits") if isinstance(value, dict) else None
        if not isinstance(splits, list) or not splits:
            raise OcbenchError('a batch job plan must be a JSON object {"splits": [split plan, ...]} '
                               "with at least one split plan")
        return cls(tuple(SplitPlan.from_dict(plan) for plan in splits), value.get("stack", "auto"))


def one_run_plan(method: str, *, prepared, split, preprocessing: str, seed: int, run_dir, net: str | None = None,
                 device: str = "cpu", hyper_parameters: dict | None = None, autoencoder=None,
                 dataset: str | None = None, setting: str | None = None,
                 normal_classes=None) -> tuple[SplitPlan, RunPlan]:
    """The plan of one run outside a batch job (``ocbench run``): ``(split plan, run)``.

    ``autoencoder`` is the pretrained autoencoder's file, where the method reads one;
    ``dataset``, ``setting`` and ``normal_classes`` are only recorded in ``metrics.json``.
    """
    run = RunPlan(method=method, run_dir=str(run_dir), hyper_parameters=dict(hyper_parameters or {}), net=net,
                  uses_autoencoder=autoencoder is not None)
    plan = SplitPlan(
        dataset=dataset, setting=setting, normal_classes=None if normal_classes is None else tuple(normal_classes),
        seed=int(seed), device=device, prepared=str(prepared), split=str(split), split_params={},
        preprocessing=preprocessing, autoencoder=None if autoencoder is None else AutoencoderPlan(str(autoencoder),
                                                                                                  net, {}),
        runs=(run,))
    return plan, run


_SPLIT_KEYS = ("dataset", "setting", "normal_classes", "seed", "device", "prepared", "split", "split_params",
               "preprocessing", "autoencoder", "runs")
_RUN_KEYS = ("method", "run_dir", "hyper_parameters", "net", "uses_autoencoder")
_AUTOENCODER_KEYS = ("path", "net", "params")


def _without_unset_code(fields: dict) -> dict:
    return {key: value for key, value in fields.items() if key != "code" or value is not None}


def _require(value, keys: tuple[str, ...], what: str) -> None:
    if not isinstance(value, dict):
        raise OcbenchError(f"{what} must be a JSON object, got {type(value).__name__}")
    missing = [key for key in keys if key not in value]
    if missing:
        raise OcbenchError(f"{what} lacks {', '.join(missing)}; it needs {', '.join(keys)}")


def canonical_json(value) -> str:
    """``value`` as JSON with sorted keys: equal values give equal text."""
    return json.dumps(value, sort_keys=True)


def read_batch_plan(path) -> BatchPlan:
    """The batch plan in the file ``path`` (written by the workflow's ``plan`` rule)."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise OcbenchError(f"cannot read the batch plan {path}: {one_line(err)}") from None
    return BatchPlan.from_dict(value)


def write_batch_plan(path, plan: BatchPlan) -> None:
    """Write ``plan`` to the file ``path`` (sorted keys, one key a line: a reader can follow it)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(plan.as_dict(), sort_keys=True, indent=1) + "\n")


def plan_digest(plan: BatchPlan) -> str:
    """A short fingerprint of ``plan``: equal plans, equal digests (what Snakemake's params trigger compares)."""
    return hashlib.sha256(plan.to_json().encode()).hexdigest()[:16]
