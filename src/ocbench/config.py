"""The workflow configuration: validation, defaults, resolved parameters and the run grid.

``load_and_validate`` runs before any job: first the JSON Schema (types, ranges,
unknown keys; defaults filled), then the checks a schema cannot express because they
need the registries (dataset, method, net, preprocessing and hyper-parameter names,
class ranges, labelled samples for semi-supervised methods). Each failure is one
``OcbenchError`` line naming the value and what is allowed.

The other functions turn a validated config into what one job needs
(``method_params``, ``autoencoder_params``, ``split_params``) and into the grid of
jobs (``runs``, ``pretrain_jobs``). This module does not import Snakemake.
"""
from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import OcbenchError

#: the schema shipped with the workflow (the package is installed from the repository)
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"

#: detector arguments the workflow sets for every run; a config may not set them
WORKFLOW_ARGUMENTS = ("net", "device", "seed", "autoencoder")
#: detector arguments that the method name itself fixes (deep_svdd_oneclass -> objective)
FIXED_BY_METHOD = ("objective",)
#: methods that do not train on a device run once, under this device name
HOST_DEVICE = "cpu"


# --------------------------------------------------------------------------- schema

def _extend_with_defaults(validator_class):
    """A validator that fills each property's ``default`` before validating it.

    The default is deep-copied, so two datasets that both take a default never share
    (and never mutate) one object, nor the schema's own.
    """
    from jsonschema import validators

    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


@lru_cache(maxsize=4)
def _load_schema(path: str) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def _schema_error_line(error) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"config {where}: {error.message}"


def validate_schema(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` against the JSON Schema, filling defaults in place."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = _load_schema(str(schema_path))
    validator = _extend_with_defaults(Draft202012Validator)(schema)
    error = best_match(validator.iter_errors(config))
    if error is not None:
        raise OcbenchError(_schema_error_line(error))
    return config


# --------------------------------------------------------------------------- registries

def _datasets():
    from .data.sources import DATASETS
    return DATASETS


def _methods():
    from .detectors import METHODS
    return METHODS


def _nets():
    from .nets import NETS
    return NETS


def _preprocessings():
    from .data import preprocess
    for name in ("PREPROCESSING", "PREPROCESSINGS", "PREPROCESSORS", "TRANSFORMS"):
        if hasattr(preprocess, name):
            return getattr(preprocess, name)
    raise OcbenchError("ocbench.data.preprocess has no registry of preprocessing names")


def _check_name(where: str, what: str, value, allowed) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise OcbenchError(f"config {where}: unknown {what} {value!r}; allowed: {', '.join(map(str, allowed))}")


def hyper_parameter_names(method: str) -> tuple[str, ...]:
    """The names a config may set for ``method``: its detector's ``__init__`` arguments.

    A method that only scores with the pretrained autoencoder (``fits=False``) has none
    of its own: its autoencoder is configured under ``training.autoencoder``.
    """
    spec = _methods()[method]
    if not spec.fits:
        return ()
    parameters = inspect.signature(spec.detector.__init__).parameters.values()
    return tuple(p.name for p in parameters
                 if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                 and p.name not in WORKFLOW_ARGUMENTS + FIXED_BY_METHOD)


# --------------------------------------------------------------------------- grid names

def normal_name(classes) -> str:
    """The ``{normal}`` path part: one class id or a group, sorted, joined by ``-``."""
    group = [classes] if isinstance(classes, int) else list(classes)
    return "-".join(str(c) for c in sorted(set(int(c) for c in group)))


def parse_normal(name: str) -> list[int]:
    """Inverse of ``normal_name``: ``"0-1-3"`` -> ``[0, 1, 3]``."""
    try:
        return [int(part) for part in str(name).split("-")]
    except ValueError:
        raise OcbenchError(f"normal classes {name!r} must be class ids joined by '-', e.g. 3 or 0-1-3") from None


def setting_has_labels(setting: dict) -> bool:
    """Whether a split of this setting holds labelled samples (+1 or -1 semi-labels)."""
    known_outliers = setting["ratio_known_outlier"] > 0 and setting["n_known_outlier_classes"] > 0
    return setting["ratio_known_normal"] > 0 or known_outliers


def needs_autoencoder(config: dict, method: str) -> bool:
    """Whether a run of ``method`` reads the shared pretrained autoencoder.

    CAE scores with it and the hybrid baselines fit on its codes, always; the deep
    methods start from its encoder only while ``training.pretrain`` is true.
    """
    spec = _methods()[method]
    if spec.hybrid or (spec.pretrained and not spec.fits):
        return True
    return spec.pretrained and bool(config["training"]["pretrain"])


def uses_validation(method: str) -> bool:
    """Whether the method selects a hyper-parameter on a labelled share of the test split."""
    return bool(getattr(_methods()[method].detector, "uses_validation", False))


def method_devices(config: dict, method: str) -> list[str]:
    spec = _methods()[method]
    if spec.deep or spec.hybrid:
        return list(config["devices"])
    return [HOST_DEVICE]


def dataset_methods(config: dict, dataset: str, setting: str) -> list[str]:
    """The global methods, narrowed by the dataset's and the setting's ``methods`` lists."""
    narrowed = [config["datasets"][dataset].get("methods"), config["settings"][setting].get("methods")]
    return [m for m in config["methods"] if all(n is None or m in n for n in narrowed)]


# --------------------------------------------------------------------------- semantic checks

def _fill_dataset_defaults(name: str, dataset: dict, config: dict) -> None:
    source = _datasets()[name]
    if "normal_classes" not in dataset:
        dataset["normal_classes"] = list(range(len(source.classes))) if source.kind == "image" else [0]
    dataset.setdefault("settings", list(config["settings"]))
    dataset.setdefault("net", source.default_net)
    dataset.setdefault("preprocessing", source.default_preprocessing)
    dataset.setdefault("training", {})


def _check_hyper_parameters(where: str, method: str, params: dict) -> None:
    allowed = hyper_parameter_names(method)
    for key in params:
        if key not in allowed:
            if not allowed:
                raise OcbenchError(
                    f"config {where}: method {method!r} takes no hyper-parameters ({key!r} given); "
                    "it scores with the pretrained autoencoder, set training.autoencoder instead")
            raise OcbenchError(f"config {where}: unknown hyper-parameter {key!r} for method {method!r}; "
                               f"allowed: {', '.join(allowed)}")


def _check_setting_classes(dataset: str, setting_name: str, setting: dict, n_classes: int,
                           normal_groups: list[list[int]]) -> None:
    where = f"settings.{setting_name}"
    known = setting["known_outlier_class"]
    k = setting["n_known_outlier_classes"]
    if known is not None:
        if k != 1:
            raise OcbenchError(f"config {where}: known_outlier_class {known} names one class, "
                               f"so n_known_outlier_classes must be 1, got {k}")
        if known >= n_classes:
            raise OcbenchError(f"config {where}: known_outlier_class {known} is out of range for dataset "
                               f"{dataset!r}; allowed: 0-{n_classes - 1}")
        for group in normal_groups:
            if known in group:
                raise OcbenchError(f"config {where}: known_outlier_class {known} is a normal class of dataset "
                                   f"{dataset!r} (normal classes {normal_name(group)}); pick another class")
    if setting["ratio_known_outlier"] > 0 and k == 0:
        raise OcbenchError(f"config {where}: ratio_known_outlier {setting['ratio_known_outlier']} needs "
                           "n_known_outlier_classes >= 1")
    for group in normal_groups:
        if k > n_classes - len(group):
            raise OcbenchError(f"config {where}: n_known_outlier_classes {k} exceeds the "
                               f"{n_classes - len(group)} anomaly classes of dataset {dataset!r} "
                               f"with normal classes {normal_name(group)}")


def check_semantics(config: dict) -> dict:
    """The checks that need the registries; fills the per-dataset defaults in place."""
    datasets, methods, nets = _datasets(), _methods(), _nets()
    preprocessings = _preprocessings()

    for method in config["methods"]:
        _check_name("methods", "method", method, methods)
    for name, params in config["method_params"].items():
        _check_name("method_params", "method", name, methods)
        _check_hyper_parameters(f"method_params.{name}", name, params)
    for name, setting in config["settings"].items():
        for method in setting.get("methods", []):
            _check_name(f"settings.{name}.methods", "method", method, config["methods"])

    for name, dataset in config["datasets"].items():
        _check_name("datasets", "dataset", name, datasets)
        _fill_dataset_defaults(name, dataset, config)
        where = f"datasets.{name}"
        _check_name(f"{where}.net", "net", dataset["net"], nets)
        _check_name(f"{where}.preprocessing", "preprocessing", dataset["preprocessing"], preprocessings)
        for method in dataset.get("methods", []):
            _check_name(f"{where}.methods", "method", method, config["methods"])
        for method, params in dataset["method_params"].items():
            _check_name(f"{where}.method_params", "method", method, methods)
            _check_hyper_parameters(f"{where}.method_params.{method}", method, params)

        n_classes = len(datasets[name].classes)
        groups = []
        for item in dataset["normal_classes"]:
            group = [item] if isinstance(item, int) else list(item)
            for cls in group:
                if cls >= n_classes:
                    raise OcbenchError(f"config {where}.normal_classes: class {cls} is out of range for dataset "
                                       f"{name!r}; allowed: 0-{n_classes - 1}")
            if len(group) == n_classes:
                raise OcbenchError(f"config {where}.normal_classes: {normal_name(group)} makes every class normal; "
                                   "leave at least one anomaly class")
            groups.append(sorted(group))
        names = [normal_name(g) for g in groups]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise OcbenchError(f"config {where}.normal_classes: {duplicates[0]} is listed twice")

        for setting_name in dataset["settings"]:
            _check_name(f"{where}.settings", "setting", setting_name, config["settings"])
            setting = config["settings"][setting_name]
            _check_setting_classes(name, setting_name, setting, n_classes, groups)
            chosen = dataset_methods(config, name, setting_name)
            if not chosen:
                raise OcbenchError(f"config {where}: no method is left for setting {setting_name!r} once the "
                                   "dataset's and the setting's methods lists are applied")
            if not setting_has_labels(setting):
                for method in chosen:
                    if methods[method].needs_labels:
                        raise OcbenchError(
                            f"config {where}: method {method!r} is semi-supervised but setting {setting_name!r} "
                            "has no labelled samples (ratio_known_normal and ratio_known_outlier are 0); "
                            "narrow the setting's methods or give it labels")
    return config


def load_and_validate(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` (schema, then registry checks), fill every default in place, return it."""
    if not isinstance(config, dict) or not config:
        raise OcbenchError("config is empty; give a config file (see config.yaml)")
    validate_schema(config, schema_path)
    return check_semantics(config)


def load_config_file(path: str | Path, schema_path: str | Path = SCHEMA_PATH) -> dict:
    try:
        with open(path) as handle:
            config = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as err:
        raise OcbenchError(f"cannot read config file {path}: {err}") from None
    return load_and_validate(config, schema_path)


# --------------------------------------------------------------------------- resolved parameters

def _accepted(method: str, values: dict) -> dict:
    names = hyper_parameter_names(method)
    return {k: v for k, v in values.items() if k in names}


def method_params(config: dict, dataset: str, method: str) -> dict:
    """The keyword arguments handed to the method's factory, resolved.

    From least to most specific: the method's ``training`` block (``network``, or
    ``autoencoder`` for RCAE; see ``MethodSpec.training``), global then the dataset's,
    and only the names its detector takes; then ``method_params[method]``, then the
    dataset's ``method_params[method]``.
    """
    spec = _methods()[method]
    ds = config["datasets"][dataset]
    params: dict = {}
    if spec.deep and spec.fits and spec.training is not None:
        params.update(_accepted(method, config["training"][spec.training]))
        params.update(_accepted(method, ds.get("training", {}).get(spec.training, {})))
    params.update(config["method_params"].get(method, {}))
    params.update(ds.get("method_params", {}).get(method, {}))
    return params


def autoencoder_params(config: dict, dataset: str) -> dict:
    """Training settings of the dataset's pretrained autoencoder (global, then dataset overrides)."""
    params = dict(config["training"]["autoencoder"])
    params.update(config["datasets"][dataset].get("training", {}).get("autoencoder", {}))
    return params


def split_params(config: dict, setting: str) -> dict:
    """The split ratios and known-outlier choice of a setting (``make_split`` keywords)."""
    keys = ("ratio_known_normal", "ratio_known_outlier", "ratio_pollution", "known_outlier_class",
            "n_known_outlier_classes")
    return {k: config["settings"][setting][k] for k in keys}


# --------------------------------------------------------------------------- the grid

@dataclass(frozen=True, order=True)
class Run:
    """One run directory: runs/{dataset}/{setting}/{normal}/seed{seed}/{method}/{device}/."""
    dataset: str
    setting: str
    normal: str
    seed: int
    method: str
    device: str


@dataclass(frozen=True, order=True)
class Pretrain:
    """One shared autoencoder: pretrain/{dataset}/{setting}/{normal}/seed{seed}/{net}/{device}/."""
    dataset: str
    setting: str
    normal: str
    seed: int
    net: str
    device: str


def runs(config: dict) -> list[Run]:
    """Every run of the validated config, in a stable order."""
    grid = []
    for dataset, ds in config["datasets"].items():
        for setting in ds["settings"]:
            for classes in ds["normal_classes"]:
                for seed in config["seeds"]:
                    for method in dataset_methods(config, dataset, setting):
                        for device in method_devices(config, method):
                            grid.append(Run(dataset, setting, normal_name(classes), seed, method, device))
    return grid


def pretrain_for(config: dict, run: Run) -> Pretrain | None:
    """The autoencoder a run reads, or None."""
    if not needs_autoencoder(config, run.method):
        return None
    net = config["datasets"][run.dataset]["net"]
    return Pretrain(run.dataset, run.setting, run.normal, run.seed, net, run.device)


def pretrain_jobs(config: dict) -> list[Pretrain]:
    return sorted({p for p in map(lambda r: pretrain_for(config, r), runs(config)) if p is not None})


def dataset_settings(config: dict) -> list[tuple[str, str]]:
    """The (dataset, setting) pairs of the grid: one LaTeX table and one ROC figure each."""
    return [(dataset, setting) for dataset, ds in config["datasets"].items() for setting in ds["settings"]]
