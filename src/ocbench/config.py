"""The workflow configuration: validation, defaults, resolved parameters and the run grid.

``load_and_validate`` runs before any job: first the JSON Schema (types, ranges,
unknown keys; defaults filled), then the checks a schema cannot express because they
need the registries (dataset, method, net, preprocessing and hyper-parameter names,
the hyper-parameters' declared ranges, class ranges, labelled samples for
semi-supervised methods, a net or preprocessing that does not fit the dataset, a batch
larger than the training set, ratios that need more outliers than the dataset has).
Each failure is one ``OcbenchError`` line naming the key, the value and what is allowed.
The registries are plain data: checking a config imports neither torch nor
scikit-learn (``check_local_devices``, run only where jobs run locally, asks torch
about CUDA only when a driver is present and cuda is listed).

The other functions turn a validated config into what one job needs
(``method_params``, ``autoencoder_params``, ``split_params``) and into the grid of
jobs (``runs``, ``pretrain_jobs``). This module does not import Snakemake.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .code_version import code_version
from .errors import OcbenchError

#: the JSON Schema of a workflow config, package data (workflow/schemas/ links to it)
SCHEMA_PATH = Path(__file__).resolve().parent / "config.schema.yaml"

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


def _describe(schema: dict) -> str:
    """One alternative of a ``oneOf`` in words: ``null``, ``an integer >= 0``, ``'all'``, ``a list of ...``."""
    if "enum" in schema:
        return ", ".join(repr(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        return "{" + ", ".join(schema["properties"]) + "}"
    if kind == "array":
        return f"a list of ({_describe(schema.get('items', {}))})"
    text = {"null": "null", "integer": "an integer", "number": "a number", "string": "a string",
            "boolean": "true or false"}.get(kind, "a value")
    return text + (f" >= {schema['minimum']}" if "minimum" in schema else "")


def _schema_error_line(error, root: dict) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator in ("oneOf", "anyOf"):  # jsonschema names no alternative: list them
        return f"config {where}: {error.instance!r} is not allowed; allowed: " + \
            "; ".join(_describe(alternative) for alternative in error.validator_value)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):  # an unknown key: list the known
        known = _known_keys(error.schema, root)
        if known:
            return f"config {where}: {error.message}; allowed keys: {', '.join(known)}"
    return f"config {where}: {error.message}"


def _known_keys(schema: dict, root: dict) -> list[str]:
    """The property names a schema declares, with those of the schemas it refers to (``$ref``, ``allOf``)."""
    keys = list(schema.get("properties", {}))
    referred = [schema["$ref"]] if "$ref" in schema else []
    for ref in referred:
        if ref.startswith("#/"):
            target = root
            for part in ref[2:].split("/"):
                target = target.get(part, {})
            keys += [key for key in _known_keys(target, root) if key not in keys]
    for part in schema.get("allOf", []):
        keys += [key for key in _known_keys(part, root) if key not in keys]
    return keys


def validate_schema(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` against the JSON Schema, filling defaults in place."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = _load_schema(str(schema_path))
    validator = _extend_with_defaults(Draft202012Validator)(schema)
    error = best_match(validator.iter_errors(config))
    if error is not None:
        raise OcbenchError(_schema_error_line(error, schema))
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
    from .data.preprocess import PREPROCESSINGS
    return PREPROCESSINGS


def _check_name(where: str, what: str, value, allowed) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise OcbenchError(f"config {where}: unknown {what} {value!r}; allowed: {', '.join(map(str, allowed))}")


@lru_cache(maxsize=None)
def hyper_parameter_names(method: str) -> tuple[str, ...]:
    """The names a config may set for ``method``, as its ``MethodSpec`` declares them.

    A method that only scores with the pretrained autoencoder (``fits=False``) has none
    of its own: its autoencoder is configured under ``training.autoencoder``. The
    declaration is plain data: reading it imports neither torch nor scikit-learn.
    """
    spec = _methods()[method]
    return tuple(spec.hyper_parameters) if spec.fits else ()


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


# --------------------------------------------------------------------------- known outlier classes
#
# ``known_outlier_class: all`` (or ``next``, or a list of classes) makes one split per
# known outlier class, as the Deep SAD paper does. Each gets its own setting name in the
# grid, ``{setting}.k{class}`` (``gamma_l_0.01.k3``), so every path pattern keeps its
# ``{setting}`` part; ``base_setting`` and ``parse_setting_name`` map it back.

#: every class outside the normal group, one split each (the Deep SAD paper's protocol)
KNOWN_CLASS_ALL = "all"
#: the next class after the normal group, (c + 1) mod n_classes (the Deep SAD reference's choice)
KNOWN_CLASS_NEXT = "next"
_KNOWN_SETTING = re.compile(r"^(?P<base>.+)\.k(?P<known>\d+)$")


def known_setting_name(setting: str, known_class: int) -> str:
    """The grid's name of ``setting`` with one known outlier class: ``gamma_l_0.01.k3``."""
    return f"{setting}.k{int(known_class)}"


def parse_setting_name(name: str) -> tuple[str, int | None]:
    """``(base setting, known class)`` of a grid setting name; ``(name, None)`` when it has no ``.k<class>``."""
    match = _KNOWN_SETTING.match(str(name))
    return (match["base"], int(match["known"])) if match else (str(name), None)


def expands_known_class(setting: dict) -> bool:
    """Whether the setting makes one split per known outlier class (``all``, ``next`` or a list)."""
    return isinstance(setting.get("known_outlier_class"), (str, list))


def known_classes_of(setting: dict, group: list[int], n_classes: int) -> list[int]:
    """The known outlier classes of an expanding setting for the normal classes ``group``, one split each.

    ``all``: every class outside the group; a list: its classes outside the group;
    ``next``: the first class after the group's largest, counting on from 0 after the last
    class (for one normal class c, (c + 1) mod n_classes).
    """
    known = setting["known_outlier_class"]
    if known == KNOWN_CLASS_ALL:
        return [c for c in range(n_classes) if c not in group]
    if known == KNOWN_CLASS_NEXT:
        following = ((max(group) + step) % n_classes for step in range(1, n_classes))
        return [next(c for c in following if c not in group)]
    return sorted(int(c) for c in known if c not in group)


def grid_settings(config: dict, dataset: str, setting: str, classes) -> list[str]:
    """The setting names of the grid for one dataset, setting and normal group (one, unless it expands)."""
    split = config["settings"][setting]
    if not expands_known_class(split):
        return [setting]
    group = [classes] if isinstance(classes, int) else list(classes)
    n_classes = len(_datasets()[dataset].classes)
    return [known_setting_name(setting, c) for c in known_classes_of(split, group, n_classes)]


def base_setting(config: dict, name: str) -> str:
    """The config's setting behind a grid setting name (itself, or ``gamma_l_0.01`` for ``gamma_l_0.01.k3``)."""
    if name in config["settings"]:
        return name
    base, known = parse_setting_name(name)
    if known is None or base not in config["settings"] or not expands_known_class(config["settings"][base]):
        raise OcbenchError(f"setting {name!r} is not in the config; allowed: {', '.join(config['settings'])} "
                           "(or <setting>.k<class> of a setting with known_outlier_class all, next or a list)")
    return base


def dataset_methods(config: dict, dataset: str, setting: str) -> list[str]:
    """The global methods, narrowed by the dataset's and the setting's ``methods`` lists."""
    setting = base_setting(config, setting)
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
    """Each key must be one the method takes, each value in its declared range."""
    spec = _methods()[method]
    allowed = hyper_parameter_names(method)
    for key, value in params.items():
        if key not in allowed:
            if not allowed:
                raise OcbenchError(
                    f"config {where}: method {method!r} takes no hyper-parameters ({key!r} given); "
                    "it scores with the pretrained autoencoder, set training.autoencoder instead")
            if key in WORKFLOW_ARGUMENTS:
                unused = f"does not take {key!r} from method_params: the workflow sets it for every run"
            elif key in spec.ignores:
                unused = f"does not use {key!r}"
            else:
                unused = f"has no hyper-parameter {key!r}"
            raise OcbenchError(f"config {where}: unknown hyper-parameter {key!r}: method {method!r} {unused}; "
                               f"allowed: {', '.join(allowed)}")
        declared = spec.hyper_parameters[key]
        if not declared.accepts(value):
            raise OcbenchError(f"config {where}.{key}: {value!r} is not allowed for method {method!r}; "
                               f"allowed: {declared.describe()}")


def _check_setting_classes(dataset: str, setting_name: str, setting: dict, n_classes: int,
                           normal_groups: list[list[int]]) -> None:
    """The split's class rules (``splits.check_classes``, the one place for them) for every
    normal group of the dataset, named by config key and dataset; the known-class expansion
    (``known_outlier_class: all`` or a list) has its own checks."""
    from .data.splits import check_classes

    where = f"settings.{setting_name}"
    k = setting["n_known_outlier_classes"]
    if expands_known_class(setting):
        _check_known_class_expansion(dataset, where, setting, n_classes, normal_groups)
    elif not (setting.get("anomaly_datasets") or setting.get("attack")):  # else every class may be normal:
        # the anomalies are then other datasets' images, or attacked images
        for group in normal_groups:
            try:
                check_classes(n_classes, group, setting["known_outlier_class"], k)
            except OcbenchError as err:
                raise OcbenchError(f"config {where}: {err} (dataset {dataset!r}, normal classes "
                                   f"{normal_name(group)})") from None
    if setting["ratio_known_outlier"] > 0 and k == 0:
        raise OcbenchError(f"config {where}: ratio_known_outlier {setting['ratio_known_outlier']} needs "
                           "n_known_outlier_classes >= 1")


def _check_known_class_expansion(dataset: str, where: str, setting: dict, n_classes: int,
                                 normal_groups: list[list[int]]) -> None:
    known, k = setting["known_outlier_class"], setting["n_known_outlier_classes"]
    shown = known if isinstance(known, str) else list(known)
    if k != 1:
        raise OcbenchError(f"config {where}: known_outlier_class {shown!r} makes one split per known outlier "
                           f"class, so n_known_outlier_classes must be 1, got {k}")
    if setting["ratio_known_outlier"] == 0:
        raise OcbenchError(f"config {where}: known_outlier_class {shown!r} makes one split per known outlier "
                           "class, but ratio_known_outlier is 0, so the splits would not differ; "
                           "set ratio_known_outlier > 0 or known_outlier_class null")
    if isinstance(known, list):
        for cls in known:
            if cls >= n_classes:
                raise OcbenchError(f"config {where}: known_outlier_class {cls} is out of range for dataset "
                                   f"{dataset!r}; allowed: 0-{n_classes - 1}")
        for group in normal_groups:
            if not known_classes_of(setting, group, n_classes):
                raise OcbenchError(f"config {where}: known_outlier_class {shown} leaves no class outside the "
                                   f"normal classes {normal_name(group)} of dataset {dataset!r}; "
                                   "list a class that is not normal")


def _check_setting_ratios(name: str, setting: dict) -> None:
    labelled = setting["ratio_known_normal"] + setting["ratio_known_outlier"]
    if labelled >= 1:
        raise OcbenchError(f"config settings.{name}: ratio_known_normal + ratio_known_outlier is {labelled:g}; "
                           "both are shares of one training set, so their sum must be < 1")


def _check_fits_dataset(where: str, name: str, dataset: dict) -> None:
    """The net must take the dataset's samples, the preprocessing its kind of data."""
    from .data.preprocess import DATA_KINDS

    source, nets = _datasets()[name], _nets()
    shape = source.sample_shape
    net = dataset["net"]
    if shape is not None and tuple(nets[net].input_shape) != tuple(shape):
        fitting = [n for n, spec in nets.items() if tuple(spec.input_shape) == tuple(shape)]
        raise OcbenchError(f"config {where}.net: net {net!r} takes samples of shape {tuple(nets[net].input_shape)} "
                           f"but dataset {name!r} has samples of shape {tuple(shape)}; "
                           f"nets that fit: {', '.join(fitting) or 'none registered'}")
    kind = DATA_KINDS.get(dataset["preprocessing"])
    if kind is not None and kind != source.kind:
        fitting = [p for p, k in DATA_KINDS.items() if k == source.kind]
        raise OcbenchError(f"config {where}.preprocessing: preprocessing {dataset['preprocessing']!r} is for "
                           f"{kind} data but dataset {name!r} is {source.kind}; allowed: {', '.join(fitting)}")


def training_set_size(dataset: str, group: list[int], setting: dict) -> int | None:
    """Samples in the training set of one split, from the source's declared sizes (None if undeclared).

    The Deep SAD equations (``splits.semisupervised_counts``) on the normal classes'
    training candidates; also checks, as ``make_split`` will, that the dataset has the
    outliers the ratios ask for (the known outliers from the smallest classes they may
    be drawn from, so that every seed's draw has enough).
    """
    from .data.splits import _check_available, semisupervised_counts

    source = _datasets()[dataset]
    sizes = source.train_class_sizes()
    if sizes is None:
        return None
    outlier_classes = [c for c in range(len(sizes)) if c not in group]
    counts = semisupervised_counts(sum(sizes[c] for c in group), setting["ratio_known_normal"],
                                   setting["ratio_known_outlier"], setting["ratio_pollution"])
    known = setting["known_outlier_class"]
    if expands_known_class(setting):  # one split per known class: the smallest must suffice
        known_classes = [min(known_classes_of(setting, group, len(sizes)), key=lambda c: sizes[c])]
    elif known is not None:
        known_classes = [known]
    else:
        known_classes = sorted(outlier_classes, key=lambda c: sizes[c])[:setting["n_known_outlier_classes"]]
    _check_available(counts, sum(sizes[c] for c in known_classes), sum(sizes[c] for c in outlier_classes),
                     known_classes, setting["ratio_known_outlier"], setting["ratio_pollution"])
    return sum(counts.values())


def _key_of(config: dict, dataset: str, method: str, key: str) -> str:
    """The config key a resolved hyper-parameter of ``method`` came from (``method_params`` precedence)."""
    spec = _methods()[method]
    ds = config["datasets"][dataset]
    if key in ds.get("method_params", {}).get(method, {}):
        return f"datasets.{dataset}.method_params.{method}.{key}"
    if key in config["method_params"].get(method, {}):
        return f"method_params.{method}.{key}"
    if key in ds.get("training", {}).get(spec.training, {}):
        return f"datasets.{dataset}.training.{spec.training}.{key}"
    return f"training.{spec.training}.{key}"


def _check_training_sizes(config: dict, name: str, setting_name: str, group: list[int], chosen: list[str]) -> None:
    """Enough outliers for the setting's ratios, and no batch larger than the training set."""
    setting = config["settings"][setting_name]
    where = f"datasets.{name} (setting {setting_name!r}, normal classes {normal_name(group)})"
    try:
        n_train = training_set_size(name, group, setting)
    except OcbenchError as err:
        raise OcbenchError(f"config {where}: {err}") from None
    if n_train is None:
        return
    batch_sizes = []
    if any(needs_autoencoder(config, m) for m in chosen):
        batch_sizes.append((autoencoder_params(config, name)["batch_size"],
                            f"datasets.{name}.training.autoencoder.batch_size"
                            if "batch_size" in config["datasets"][name].get("training", {}).get("autoencoder", {})
                            else "training.autoencoder.batch_size"))
    for method in chosen:
        size = method_params(config, name, method).get("batch_size")
        if size is not None:
            batch_sizes.append((size, _key_of(config, name, method, "batch_size")))
    for size, key in batch_sizes:
        if size > n_train:
            raise OcbenchError(f"config {key}: batch size {size} is larger than the {n_train} training samples "
                               f"of {where}; allowed: at most {n_train}")


def cuda_missing_reason() -> str | None:
    """Why this machine cannot run a CUDA job, or None when it can.

    Without an NVIDIA driver (no ``/proc/driver/nvidia``, no ``nvidia-smi``) torch is not
    imported at all; with one, torch is asked, since a CPU-only build cannot use it.
    """
    import shutil

    if not Path("/proc/driver/nvidia/version").exists() and shutil.which("nvidia-smi") is None:
        return "this machine has no NVIDIA driver (no /proc/driver/nvidia, no nvidia-smi)"
    import torch

    if not torch.cuda.is_available():
        return f"torch {torch.__version__} sees no CUDA device"
    return None


def auto_uses_gpu(config: dict, local_exec: bool) -> bool:
    """Whether the workflow's ``auto`` jobs will train on a GPU, so that they ask for one:
    where they run on this machine (``local_exec``) and it has CUDA. On a cluster they go
    to the CPU partition (docs/cluster.md) and use none."""
    return "auto" in config["devices"] and local_exec and cuda_missing_reason() is None


def check_local_devices(config: dict) -> None:
    """Refuse ``devices: [cuda]`` where the jobs run on this machine and it has no CUDA.

    Only for local execution: a cluster's GPU nodes are not the machine that plans the
    jobs. ``auto`` never fails (it falls back to the CPU).
    """
    if "cuda" in config["devices"]:
        reason = cuda_missing_reason()
        if reason is not None:
            raise OcbenchError(f"config devices: 'cuda' is listed but {reason}; use cpu or auto here, "
                               "or run the workflow on a cluster whose nodes have GPUs")


def _check_mirror(where: str, dataset: dict, source=None) -> None:
    """A ``mirror`` must be an existing folder (holding the files the source declares it needs):
    the fetch job would fail on it much later."""
    mirror = dataset.get("mirror")
    if mirror and not Path(mirror).is_dir():
        raise OcbenchError(f"config {where}.mirror: folder {mirror} does not exist; install or copy the raw "
                           "files there (Fashion-MNIST: apt-get install dataset-fashion-mnist) or remove mirror")
    if mirror and source is not None and source.check_mirror is not None:
        try:
            source.check_mirror(Path(mirror))
        except OcbenchError as err:
            raise OcbenchError(f"config {where}.mirror: {err}") from None


def _check_init(where: str, config: dict, dataset: str) -> None:
    """``training.init`` must name a reference that defines the dataset's net (nets.reference_init)."""
    from .nets.reference_init import reference_of

    try:
        reference_of(training_init(config, dataset), config["datasets"][dataset]["net"])
    except OcbenchError as err:
        raise OcbenchError(f"config {where} training.init: {err}") from None


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
        if parse_setting_name(name)[1] is not None:
            raise OcbenchError(f"config settings: setting name {name!r} ends in '.k<class>', the grid's name of a "
                               "setting with one known outlier class; rename it")
        _check_setting_ratios(name, setting)
        for method in setting.get("methods", []):
            _check_name(f"settings.{name}.methods", "method", method, config["methods"])

    for name, dataset in config["datasets"].items():
        _check_name("datasets", "dataset", name, datasets)
        _fill_dataset_defaults(name, dataset, config)
        where = f"datasets.{name}"
        _check_name(f"{where}.net", "net", dataset["net"], nets)
        _check_name(f"{where}.preprocessing", "preprocessing", dataset["preprocessing"], preprocessings)
        _check_fits_dataset(where, name, dataset)
        _check_init(where, config, name)
        _check_mirror(where, dataset, datasets[name])
        for method in dataset.get("methods", []):
            _check_name(f"{where}.methods", "method", method, config["methods"])
        for method, params in dataset["method_params"].items():
            _check_name(f"{where}.method_params", "method", method, methods)
            _check_hyper_parameters(f"{where}.method_params.{method}", method, params)

        n_classes = len(datasets[name].classes)
        # 'all' and drawn groups become explicit lists here, in place: the grid and the paths name the classes
        from .data.groups import expand_normal_classes
        dataset["normal_classes"] = expand_normal_classes(
            dataset["normal_classes"], n_classes, f"config {where}.normal_classes", f"dataset {name!r}")
        groups = [[item] if isinstance(item, int) else item for item in dataset["normal_classes"]]
        for group in groups:
            own_anomalies = [s for s in dataset["settings"]
                             if not config["settings"].get(s, {}).get("anomaly_datasets")
                             and not config["settings"].get(s, {}).get("attack")]
            if len(group) == n_classes and own_anomalies:
                raise OcbenchError(f"config {where}.normal_classes: {normal_name(group)} makes every class normal, "
                                   f"but setting {own_anomalies[0]!r} takes its anomalies from the other classes; "
                                   "leave at least one anomaly class, or give the setting anomaly_datasets")

        for setting_name in dataset["settings"]:
            _check_name(f"{where}.settings", "setting", setting_name, config["settings"])
            setting = config["settings"][setting_name]
            if setting.get("anomaly_datasets"):
                from .data.ood import check_anomaly_setting
                check_anomaly_setting(f"settings.{setting_name} (dataset {name!r})", name, setting, datasets)
            if setting.get("attack"):
                from .data.adversarial import check_attack_setting
                check_attack_setting(f"settings.{setting_name} (dataset {name!r})", name, setting, datasets)
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
            for group in groups:
                _check_training_sizes(config, name, setting_name, group, chosen)
    return config


def load_and_validate(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` (schema, then registry checks), fill every default in place, return it.

    The config's ``plugins`` are imported between the two, so that the registry checks
    know the methods, datasets and nets they add (ocbench.plugins)."""
    from .plugins import load_plugins

    if not isinstance(config, dict) or not config:
        raise OcbenchError("config is empty; give a config file (see config.yaml)")
    validate_schema(config, schema_path)
    load_plugins(config.get("plugins"))
    return check_semantics(config)


def _yaml_error_line(err: yaml.YAMLError) -> str:
    """A YAML syntax error in one line: where it is (line and column, from 1) and what is wrong."""
    mark, problem = getattr(err, "problem_mark", None), getattr(err, "problem", None)
    if mark is None or problem is None:
        return " ".join(str(err).split())
    line = f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and context_mark is not None:
        line += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    return line


def read_config_file(path: str | Path):
    """The YAML content of a config file, unvalidated; an unreadable file or a syntax error
    is one ``OcbenchError`` line naming the file (and the line and column of the error)."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise OcbenchError(f"cannot read config file {path}: {getattr(err, 'strerror', None) or err}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise OcbenchError(f"{path}: {_yaml_error_line(err)}") from None


def in_config_files(files, err: OcbenchError) -> OcbenchError:
    """``err`` of a config check prefixed with the config file(s) it came from, as a compiler names
    its source: ``experiment.yaml: config method_params.ocsvm.nu: ...``."""
    names = " + ".join(str(name) for name in files) if isinstance(files, (list, tuple)) else str(files)
    if str(err).startswith(f"{names}: "):  # already named (read_config_file)
        return err
    return OcbenchError(f"{names}: {err}")


def exit_on_config_error(files, check, *args):
    """``check(*args)``; an ``OcbenchError`` ends the process with one line on stderr naming
    the config file(s) (``in_config_files``) and exit status 1: the workflow's config
    check, which Snakemake would otherwise report with a traceback into its Snakefile."""
    import sys

    try:
        return check(*args)
    except OcbenchError as err:
        sys.exit(f"ocbench: error: {in_config_files(files, err)}")


def load_config_file(path: str | Path, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Read and validate a config file (``load_and_validate``); every error names the file."""
    config = read_config_file(path)
    try:
        return load_and_validate(config, schema_path)
    except OcbenchError as err:
        raise in_config_files(path, err) from None


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
        params.update(_accepted(method, {"init": training_init(config, dataset)}))
    params.update(config["method_params"].get(method, {}))
    params.update(ds.get("method_params", {}).get(method, {}))
    return params


def training_init(config: dict, dataset: str) -> str:
    """``training.init`` for ``dataset``: the dataset's override, else the global value."""
    return config["datasets"][dataset].get("training", {}).get("init", config["training"]["init"])


def autoencoder_params(config: dict, dataset: str) -> dict:
    """Training settings of the dataset's pretrained autoencoder (global, then dataset
    overrides), with the initialisation ``training_init``."""
    params = dict(config["training"]["autoencoder"])
    params.update(config["datasets"][dataset].get("training", {}).get("autoencoder", {}))
    params["init"] = training_init(config, dataset)
    return params


def split_params(config: dict, setting: str) -> dict:
    """The ``make_split`` keywords of a grid setting: ratios, known-outlier choice, validation share.

    ``setting`` may be a grid name ``{setting}.k{class}`` of an expanding setting: its
    known outlier class is then that class.
    """
    keys = ("ratio_known_normal", "ratio_known_outlier", "ratio_pollution", "known_outlier_class",
            "n_known_outlier_classes")
    base = base_setting(config, setting)
    params = {k: config["settings"][base][k] for k in keys}
    if expands_known_class(config["settings"][base]):
        known = parse_setting_name(setting)[1]
        if known is None:
            raise OcbenchError(f"setting {setting!r} makes one split per known outlier class; "
                               f"name one as {known_setting_name(setting, 0).replace('.k0', '.k<class>')}")
        params["known_outlier_class"] = known
    params["validation_fraction"] = config["validation_fraction"]
    if config["settings"][base].get("anomaly_datasets"):  # only then: other settings' params stay as they were
        chosen = config["settings"][base]
        params.update(anomaly_datasets=chosen["anomaly_datasets"],
                      anomalies_per_dataset=chosen.get("anomalies_per_dataset"),
                      conversions=chosen.get("conversions", []))
    if config["settings"][base].get("attack"):  # adversarial examples as the anomalies (data/adversarial.py)
        params["attack"] = dict(config["settings"][base]["attack"])
    return params


def attack_of(config: dict, setting: str) -> dict | None:
    """The ``attack`` block of a grid setting, or None when its anomalies are not attacked images."""
    return config["settings"][base_setting(config, setting)].get("attack")


def classifier_params(config: dict, dataset: str) -> dict:
    """Training settings of the classifier that a dataset's attacks attack (global, then dataset overrides)."""
    params = dict(config["training"]["classifier"])
    params.update(config["datasets"][dataset].get("training", {}).get("classifier", {}))
    return params


def anomaly_datasets_of(config: dict, setting: str) -> list[str]:
    """The datasets whose test images are the anomalies of ``setting`` (none for the one-class settings)."""
    return list(config["settings"][base_setting(config, setting)].get("anomaly_datasets") or [])


def dataset_mirror(config: dict, dataset: str):
    """The mirror folder of ``dataset``, or None; a dataset used only for anomalies may be left out of ``datasets``."""
    return config["datasets"].get(dataset, {}).get("mirror")


# --------------------------------------------------------------------------- the grid

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


def runs(config: dict) -> list[Run]:
    """Every run of the validated config, in a stable order."""
    grid = []
    for dataset, ds in config["datasets"].items():
        for setting in ds["settings"]:
            # (method, device) pairs worked out once, not per run: a paper preset has 10^5 runs
            pairs = [(m, d) for m in dataset_methods(config, dataset, setting) for d in method_devices(config, m)]
            for classes in ds["normal_classes"]:
                normal = normal_name(classes)
                for name in grid_settings(config, dataset, setting, classes):
                    for seed in config["seeds"]:
                        grid.extend(Run(dataset, name, normal, seed, method, device) for method, device in pairs)
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
    """The (dataset, grid setting) pairs of the grid: one LaTeX table and one ROC figure each.

    An expanding setting gives one pair per known outlier class, in class order.
    """
    pairs = []
    for dataset, ds in config["datasets"].items():
        for setting in ds["settings"]:
            names = {name for classes in ds["normal_classes"]
                     for name in grid_settings(config, dataset, setting, classes)}
            pairs += [(dataset, name) for name in sorted(names, key=lambda n: parse_setting_name(n)[1] or 0)]
    return pairs


# --------------------------------------------------------------------------- batches

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


def batch_of(run: Run) -> Batch:
    """The batch a run belongs to: the one place that decides which runs share a job
    (a later grouping, e.g. by method across seeds and classes on CUDA, plugs in here)."""
    return Batch(run.dataset, run.setting, run.seed, run.device)


def group_runs(grid: list[Run]) -> dict[Batch, list[Run]]:
    """The runs of each batch; batches and their runs keep the order of ``grid``."""
    groups: dict[Batch, list[Run]] = {}
    for run in grid:
        groups.setdefault(batch_of(run), []).append(run)
    return groups


def split_runs(batch_runs: list[Run]) -> list[list[Run]]:
    """The runs of a batch grouped by split (and device), in the batch's order."""
    splits: dict[tuple, list[Run]] = {}
    for run in batch_runs:
        splits.setdefault((run.dataset, run.setting, run.normal, run.seed, run.device), []).append(run)
    return list(splits.values())


def batch_plans(config: dict, batch_runs: list[Run], *, prepared: str, split_of, run_dir,
                autoencoder_path) -> list[dict]:
    """The plan of each split of a batch (``batch_plan``), in order: a batch job's ``params``.

    ``split_of(run)`` gives the path of a run's split file."""
    return [batch_plan(config, group, prepared=prepared, split=split_of(group[0]), run_dir=run_dir,
                       autoencoder_path=autoencoder_path)
            for group in split_runs(batch_runs)]


def batch_plan(config: dict, split_group: list[Run], *, prepared: str, split: str,
               run_dir, autoencoder_path) -> dict:
    """Everything one split of a batch needs, resolved: the split, the autoencoder and
    each run's parameters. ``split_group`` holds runs of one split on one device.

    ``run_dir(run)`` and ``autoencoder_path(pretrain)`` give the paths of the workflow's
    layout. The plans are the batch job's ``params``: any change of a value reruns the
    job, which then refits only the runs whose own resolved parameters changed
    (``runs.run_batch``).
    """
    methods = _methods()
    first = split_group[0]
    ds = config["datasets"][first.dataset]
    pretrain = next((p for p in map(lambda r: pretrain_for(config, r), split_group) if p is not None), None)
    entries = []
    for run in split_group:
        spec = methods[run.method]
        entries.append({
            "method": run.method,
            "run_dir": str(run_dir(run)),
            "hyper_parameters": method_params(config, first.dataset, run.method),
            "net": ds["net"] if spec.deep or spec.hybrid else None,
            "uses_autoencoder": pretrain_for(config, run) is not None,
        })
    return {
        "dataset": first.dataset, "setting": first.setting, "normal_classes": parse_normal(first.normal),
        "seed": first.seed, "device": first.device, "prepared": str(prepared), "split": str(split),
        "split_params": split_params(config, first.setting), "preprocessing": ds["preprocessing"],
        "autoencoder": None if pretrain is None else {
            "path": str(autoencoder_path(pretrain)), "net": pretrain.net,
            "params": autoencoder_params(config, first.dataset)},
        "runs": entries,
        "code": code_version(),
    }
