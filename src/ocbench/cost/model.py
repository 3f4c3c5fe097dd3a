"""The cost model: each job's seconds, from the grid of a config and a calibration, before anything runs.

A deep method costs epochs x batches x the calibrated seconds of one batch of its
network at its batch size on its device, plus the passes over data that need no
gradient (the centre, the training scores, the test scores), at the calibrated seconds
per sample. A shallow method costs what its calibrated power law in the training-set
size says (``probes.py`` times it on synthetic data of the run's shape). A batch
job adds the process start, each split's reading and preprocessing, and each run's
files. On CUDA (or with ``training.stack: always``) the runs that ``stacks.fit_stacks``
would train as one stack cost one stack's batches, shared among them.

Every number comes from ``costs``, which answers a *spec* (a small dict naming what was
timed: ``{"kind": "step", "net": ..., "module": "encoder", "batch_size": 200}``).
``calibration.Calibration`` answers from its file; ``calibration.Needs`` records the
specs a config asks for, so that the model itself says what to calibrate.

The model reads the config and the registries only, never a data file: ``rules/common.smk``
calls it to give each cluster job its ``runtime``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from ..config import (
    Batch, HOST_DEVICE, autoencoder_params, group_runs, method_params, pretrain_for, runs,
    split_runs, uses_validation)
from .shapes import SplitShape, prepared_bytes, split_shape

#: how each detector trains, by class name: the network module its batches run through
#: ("encoder": Deep SVDD-like; "autoencoder": encoder and decoder), or a model of its own
TRAINING_KIND = {"DeepSVDD": "encoder", "DeepSAD": "encoder", "MultiRadiusDeepSVDD": "encoder",
                 "OCNN": "ocnn", "RCAE": "autoencoder", "SSDGM": "ss_dgm"}
#: the process start of each rule's command, by what it imports (``probes.START_CODE``); a tabular
#: dataset's prepare and split jobs import scikit-learn too
RULE_START = {"fetch": "light", "prepare": "light", "split": "light", "run_batch": "run-batch",
              "collect": "report", "tables": "report", "plot_auroc": "plot", "plot_roc": "plot",
              "plot_extremes": "plot", "summary": "plot"}


class Costs(Protocol):
    def seconds(self, spec: dict) -> float:
        """The calibrated seconds of ``spec`` (one batch, one sample, one process start...)."""

    def law(self, spec: dict, n: float) -> float:
        """The calibrated seconds of ``spec`` at size ``n`` (a fitted power law, or a line)."""


def steps_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    """The batches ``training.batches`` cuts an epoch of ``n`` samples into.

    A last batch of a single sample is folded into the one before it; with ``drop_last``
    the last partial batch is left out. (tests/unit/test_estimate.py checks the count against
    ``training.batches`` itself.)
    """
    if drop_last:
        return n // batch_size
    steps = math.ceil(n / batch_size)
    return steps - 1 if steps > 1 and n - (steps - 1) * batch_size == 1 else steps


@dataclass
class JobCost:
    """One workflow job's predicted seconds, by part; ``device`` is where it trains."""
    rule: str
    name: str
    device: str = HOST_DEVICE
    parts: dict[str, float] = field(default_factory=dict)
    n_runs: int = 0

    @property
    def seconds(self) -> float:
        return sum(self.parts.values())

    def add(self, part: str, seconds: float) -> None:
        self.parts[part] = self.parts.get(part, 0.0) + seconds


def _canonical(params: dict) -> dict:
    return json.loads(json.dumps(params, sort_keys=True))


def _step(net: str, module: str, batch_size: int, device: str) -> dict:
    return {"kind": "step", "net": net, "module": module, "batch_size": int(batch_size), "device": device}


def _forward(net: str, module: str, device: str) -> dict:
    return {"kind": "forward", "net": net, "module": module, "device": device}


#: the stack sizes a stacked batch is timed at; other sizes are read off the line through them
STACK_PROBES = (2, 8)


def stacked_step(costs: Costs, net: str, module: str, batch_size: int, device: str, models: int) -> float:
    """Seconds of one batch of ``models`` networks trained as one stack: the line through the probes."""
    low, high = STACK_PROBES
    at = {k: costs.seconds(dict(_step(net, module, batch_size, device), kind="stacked_step", models=k))
          for k in STACK_PROBES}
    return max(at[low] + (models - low) * (at[high] - at[low]) / (high - low), 0.0)


def _batch(params: dict, n: int) -> int:
    """The size of a training batch: the configured one, or the whole training set when that is smaller."""
    return min(int(params["batch_size"]), n)


def _epochs_steps(params: dict, n: int) -> int:
    return int(params["epochs"]) * steps_per_epoch(n, int(params["batch_size"]), bool(params.get("drop_last")))


def _shallow_spec(method: str, params: dict, dim: int, shape: SplitShape) -> dict:
    """A shallow method's calibration: its run shape relative to the training set, so that one
    power law in the training-set size serves every split of about that shape (the shares
    rounded, ``_share``: a paper preset's splits then share a few laws, not one each)."""
    return {"kind": "shallow", "method": method, "params": _canonical(params), "dim": int(dim),
            "validation_ratio": _share(shape.n_validation / shape.n_train) if uses_validation(method) else 0.0,
            "test_ratio": _share(shape.n_evaluation / shape.n_train),
            "labelled_ratio": _share(shape.n_labelled / shape.n_train) if _uses_labels(method) else 0.0}


def _share(value: float) -> float:
    """``value`` to its leading digit and a half: 1.33 -> 1.5, 2.25 -> 2, 0.13 -> 0.15, 0 -> 0."""
    if value <= 0:
        return 0.0
    step = 0.5 * 10 ** math.floor(math.log10(value))
    return float(f"{round(value / step) * step:.3g}")


def _uses_labels(method: str) -> bool:
    from ..detectors import METHODS
    return bool(getattr(METHODS[method].detector, "uses_labels", False))


@lru_cache(maxsize=None)
def _rep_dim(net: str) -> int:
    """The size of the net's codes (what the hybrids and OC-NN's head work on)."""
    from ..nets import build_network
    return int(build_network(net).rep_dim)


class CostModel:
    """The predicted seconds of a config's jobs from ``costs`` (``device`` replaces ``auto``)."""

    def __init__(self, config: dict, costs: Costs, auto_device: str = "cpu"):
        self.config, self.costs, self.auto_device = config, costs, auto_device
        self._params: dict = {}
        self._runs: dict = {}

    # ---------------------------------------------------------------- one run

    def device_of(self, device: str) -> str:
        return self.auto_device if device == "auto" else device

    def stacks(self, device: str) -> bool:
        mode = self.config["training"]["stack"]
        return mode == "always" or (mode == "auto" and self.device_of(device) == "cuda")

    def pretrain_fit(self, dataset: str, net: str, shape: SplitShape, device: str, models: int = 1) -> float:
        """Training the shared autoencoder (its share when ``models`` train as one stack)."""
        params = autoencoder_params(self.config, dataset)
        steps = _epochs_steps(params, shape.n_train)
        bs = _batch(params, shape.n_train)
        step = (stacked_step(self.costs, net, "autoencoder", bs, device, models) / models if models > 1
                else self.costs.seconds(_step(net, "autoencoder", bs, device)))
        threshold = shape.n_train * self.costs.seconds(_forward(net, "autoencoder", device))
        return steps * step + threshold

    def run_costs(self, dataset: str, method: str, shape: SplitShape, device: str,
                  stacked: int = 1) -> dict[str, float]:
        """``fit``, ``score`` and ``record`` seconds of one run; ``stacked`` models share its training.

        Worked out once per distinct run (a paper preset repeats each over seeds and settings)."""
        key = (dataset, method, shape, device, stacked)
        if key not in self._runs:
            self._runs[key] = self._run_costs(dataset, method, shape, device, stacked)
        return self._runs[key]

    def _run_costs(self, dataset: str, method: str, shape: SplitShape, device: str, stacked: int) -> dict:
        from ..detectors import METHODS

        spec = METHODS[method]
        net = self.config["datasets"][dataset]["net"]
        params = self._parameters(dataset, method, net)
        costs = self.costs
        if not spec.deep:
            fit = 0.0
            dim = shape.dim
            if spec.hybrid:  # the codes of the training set and the test split, then the method on them
                dim = _rep_dim(net)
                fit = (shape.n_train + shape.n_test) * costs.seconds(_forward(net, "encoder", device))
            fit += costs.law(_shallow_spec(method, params, dim, shape), shape.n_train)
            return {"fit": fit, "score": 0.0, "record": self._record(shape)}
        if not spec.fits:  # CAE: the pretrained autoencoder's reconstruction errors
            return {"fit": 0.0, "score": shape.n_evaluation * costs.seconds(_forward(net, "autoencoder", device)),
                    "record": self._record(shape)}
        kind = TRAINING_KIND.get(spec.detector_name, "encoder")
        steps = _epochs_steps(params, shape.n_train)
        bs = _batch(params, shape.n_train)
        encode = costs.seconds(_forward(net, "encoder", device))
        if kind == "ss_dgm":
            sizes = {k: params.get(k) for k in ("latent_dim", "hidden")}
            model = {"net": net, "dim": shape.dim, **_canonical(sizes), "device": device}
            fit = steps * costs.seconds(dict(model, kind="ss_dgm_step", batch_size=bs))
            score = shape.n_evaluation * costs.seconds(dict(model, kind="ss_dgm_forward"))
        elif kind == "ocnn":  # a head on the frozen encoder's codes, computed once
            head = {"kind": "ocnn_step", "rep_dim": _rep_dim(net), "hidden": int(params.get("hidden", 32)),
                    "batch_size": bs, "device": device}
            fit = shape.n_train * encode + steps * costs.seconds(head)
            score = shape.n_evaluation * encode
        elif kind == "autoencoder":  # RCAE: the noise update after each alternation, the training scores
            decode = costs.seconds(_forward(net, "autoencoder", device))
            alternations = math.ceil(int(params["epochs"]) / int(params.get("epochs_per_alternation", 10)))
            fit = steps * costs.seconds(_step(net, "autoencoder", bs, device)) \
                + (alternations + 1) * shape.n_train * decode
            score = shape.n_evaluation * decode
        else:  # the centre pass, the batches, the training scores
            step = (stacked_step(costs, net, "encoder", bs, device, stacked) / stacked if stacked > 1
                    else costs.seconds(_step(net, "encoder", bs, device)))
            fit = steps * step + 2 * shape.n_train * encode
            if spec.detector_name == "MultiRadiusDeepSVDD" and params.get("clusters", "finch") == "finch":
                n = min(shape.n_train, int(params.get("finch_max_samples", 5000)))
                fit += costs.law({"kind": "finch", "dim": _rep_dim(net),
                                  "metric": params.get("finch_metric", "euclidean")}, n)
            score = shape.n_evaluation * encode
        return {"fit": fit, "score": score, "record": self._record(shape)}

    def _parameters(self, dataset: str, method: str, net: str) -> dict:
        """The config's hyper-parameters of a method, with its detector's defaults for the rest."""
        from ..detectors import METHODS

        key = (dataset, method)
        if key not in self._params:
            spec = METHODS[method]
            given = method_params(self.config, dataset, method)
            if spec.builds in ("encoder", "scratch", "shallow"):
                detector = spec.factory(dict(given), net=net, device="cpu", seed=0, autoencoder=None)
                self._params[key] = {k: v for k, v in detector.get_params().items()
                                     if spec.builds != "shallow" or k in given}
            else:
                self._params[key] = given
        return self._params[key]

    def _record(self, shape: SplitShape) -> float:
        return self.costs.law({"kind": "record"}, shape.n_evaluation)

    # ---------------------------------------------------------------- one batch job

    def batch_cost(self, batch: Batch, batch_runs: list) -> JobCost:
        """A ``run_batch`` job: the process start, then each split's data, autoencoder and runs."""
        from ..detectors import METHODS
        from ..jobs.stacks import stackable

        device = self.device_of(batch.device)
        job = JobCost("run_batch", f"{batch.dataset}/{batch.setting}/seed{batch.seed}/{batch.device}", device,
                      n_runs=len(batch_runs))
        job.add("start", self.costs.seconds({"kind": "start", "command": "run-batch"}))
        groups = split_runs(batch_runs)
        shapes = [split_shape(self.config, g[0].dataset, g[0].setting, g[0].normal) for g in groups]
        net = self.config["datasets"][batch.dataset]["net"]
        stack_sizes: dict = {}  # (what, n_train) -> models trained as one stack
        if self.stacks(batch.device) and len(groups) > 1:
            for group, shape in zip(groups, shapes):
                if any(pretrain_for(self.config, run) for run in group):
                    stack_sizes[("autoencoder", shape.n_train)] = stack_sizes.get(("autoencoder", shape.n_train), 0) + 1
                for run in group:
                    if stackable(METHODS[run.method]):
                        key = (run.method, shape.n_train)
                        stack_sizes[key] = stack_sizes.get(key, 0) + 1
        for group, shape in zip(groups, shapes):
            job.add("data", self._split_data(batch.dataset, shape))
            if any(pretrain_for(self.config, run) for run in group):
                job.add("pretrain", self.pretrain_fit(batch.dataset, net, shape, device,
                                                      stack_sizes.get(("autoencoder", shape.n_train), 1)))
            for run in group:
                parts = self.run_costs(batch.dataset, run.method, shape, device,
                                       stack_sizes.get((run.method, shape.n_train), 1))
                for part, seconds in parts.items():
                    job.add(part, seconds)
        return job

    def _split_data(self, dataset: str, shape: SplitShape) -> float:
        """Reading the prepared file (and hashing it, for the runs' requests), preprocessing the split."""
        read = self.costs.seconds({"kind": "read", "what": "per_byte"}) * prepared_bytes(dataset)
        preprocessing = self.config["datasets"][dataset]["preprocessing"]
        values = (shape.n_train + shape.n_test) * shape.dim
        return read + values * self.costs.seconds({"kind": "preprocess", "preprocessing": preprocessing})

    def batch_costs(self) -> dict[Batch, JobCost]:
        return {batch: self.batch_cost(batch, batch_runs) for batch, batch_runs in group_runs(runs(self.config)).items()}

    # ---------------------------------------------------------------- every job of the workflow

    def unpredicted(self) -> dict[str, int]:
        """The jobs the model leaves out, by rule: the adversarial settings' classifier and attacks."""
        from ..config import attack_of
        from ..data.adversarial import attack_name

        attacked = {(r.dataset, r.seed, attack_name(attack_of(self.config, r.setting))) for r in runs(self.config)
                    if attack_of(self.config, r.setting)}
        counts = {"train_classifier": len({(d, s) for d, s, _ in attacked}), "attack": len(attacked)}
        return {rule: count for rule, count in counts.items() if count}

    def workflow_costs(self) -> list[JobCost]:
        """Every job the workflow runs for this config, ``run_batch`` and the small ones."""
        from ..config import anomaly_datasets_of, dataset_settings
        from ..data.registry import DATASETS

        grid = runs(self.config)
        datasets = dict.fromkeys(run.dataset for run in grid)
        for run in grid:
            datasets.update(dict.fromkeys(anomaly_datasets_of(self.config, run.setting)))
        kinds = set(RULE_START.values()) | {"tabular" for d in datasets if DATASETS[d].kind == "tabular"}
        start = {kind: self.costs.seconds({"kind": "start", "command": kind}) for kind in kinds}

        def data_start(dataset):
            return start["tabular" if DATASETS[dataset].kind == "tabular" else "light"]

        jobs = []
        for dataset in datasets:
            jobs.append(JobCost("fetch", dataset, parts={"start": start["light"]}))
            jobs.append(JobCost("prepare", dataset, parts={"start": data_start(dataset)}))
        per_byte = self.costs.seconds({"kind": "read", "what": "per_byte"})
        for split in dict.fromkeys((r.dataset, r.setting, r.normal, r.seed) for r in grid):
            jobs.append(JobCost("split", "/".join(map(str, split)), parts={
                "start": data_start(split[0]), "data": per_byte * prepared_bytes(split[0])}))
        jobs += list(self.batch_costs().values())
        for rule in ("collect", "tables", "plot_auroc", "summary"):
            jobs.append(JobCost(rule, rule, parts={"start": start[RULE_START[rule]]}, n_runs=len(grid)))
        curve = self.costs.seconds({"kind": "report", "what": "roc_curve"})
        panel = self.costs.seconds({"kind": "report", "what": "roc_panel"})
        picture = self.costs.seconds({"kind": "report", "what": "extremes_picture"})
        seeds = self.config["extremes_seeds"]
        for dataset, setting in dataset_settings(self.config):
            family = [r for r in grid if (r.dataset, r.setting) == (dataset, setting)]
            panels = len({(r.method, r.device) for r in family})  # a panel per method, a curve per run
            jobs.append(JobCost("plot_roc", f"{dataset}/{setting}", n_runs=len(family),
                                parts={"start": start["plot"], "figures": len(family) * curve + panels * panel}))
            pictured = [r for r in family if seeds is None or r.seed in seeds]
            if DATASETS[dataset].kind == "image" and pictured:  # each picture reads the prepared file
                read = per_byte * prepared_bytes(dataset)
                jobs.append(JobCost("plot_extremes", f"{dataset}/{setting}", n_runs=len(pictured),
                                    parts={"start": start["plot"], "figures": len(pictured) * (picture + read)}))
        return jobs

