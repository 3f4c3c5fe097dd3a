"""The checks a schema cannot express, before any job: names against the registries, hyper-parameters
against their declared ranges, classes, ratios and sizes against the dataset, nets and preprocessings
against the data, devices against this machine; and ``load_and_validate``, schema then these checks."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..data.adversarial import check_attack_setting
from ..data.groups import expand_normal_classes
from ..data.ood import check_anomaly_setting
from ..data.preprocess import DATA_KINDS
from ..data.splits import _check_available, check_classes, semisupervised_counts
from ..errors import OcbenchError
from ..nets.reference_init import reference_of
from ..plugins import load_plugins
from .names import (
    WORKFLOW_ARGUMENTS, _check_name, _datasets, _methods, _nets, _preprocessings, dataset_methods,
    excluding_lists, expands_known_class, hyper_parameter_names, known_classes_of, needs_autoencoder,
    normal_name, parse_setting_name, setting_has_labelled_anomalies)
from .resolve import autoencoder_params, method_params, training_init
from .schema import SCHEMA_PATH, TRAINING_BLOCK_DECLARATIONS, validate_schema


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


#: the arguments ``MethodSpec.factory`` gives a detector beside its hyper-parameters, by ``builds``
#: ("load" reads a saved detector and takes none; tests/unit/test_config.py checks these against the factory)
FACTORY_ARGUMENTS = {"encoder": ("net", "device", "seed", "autoencoder"), "scratch": ("net", "device", "seed"),
                     "shallow": ("seed",)}


def _check_constructor(method: str) -> None:
    """A plugin's detector must take every argument its runs will give it: the factory's, the
    method's ``fixed`` ones and every declared hyper-parameter (else each run fails with
    ``TypeError: unexpected keyword argument``). Only a plugin's class is compared: it is imported
    already, while a built-in's module may import torch (tests/unit/test_registry.py checks those)."""
    import inspect

    from ..detectors import DETECTOR_CLASSES

    spec = _methods()[method]
    detector = DETECTOR_CLASSES.get(spec.detector_name)
    if detector is None or spec.builds not in FACTORY_ARGUMENTS:
        return
    try:
        parameters = inspect.signature(detector).parameters
    except (TypeError, ValueError):  # no signature to read (a class implemented in C)
        return
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    given = [*FACTORY_ARGUMENTS[spec.builds], *spec.fixed, *spec.hyper_parameters]
    refused = [name for name in given if name not in parameters]
    if refused:
        raise OcbenchError(
            f"config methods: method {method!r} gives its detector {', '.join(map(repr, refused))} but "
            f"{spec.detector_name}.__init__ does not take {'it' if len(refused) == 1 else 'them'}; it takes: "
            f"{', '.join(parameters) or 'nothing'} (its runs pass {', '.join(FACTORY_ARGUMENTS[spec.builds])}, "
            "the MethodSpec's fixed arguments and its declared hyper_parameters)")


def _check_every_method_runs(config: dict) -> None:
    """A method of the global list that no dataset and setting runs is a mistake (most often one that
    an exclude_methods list leaves out everywhere): refuse it, naming the lists."""
    runs_somewhere, leaving_out = set(), {}
    for dataset, ds in config["datasets"].items():
        for setting in ds["settings"]:
            runs_somewhere.update(dataset_methods(config, dataset, setting))
            for key, names in excluding_lists(config, dataset, setting).items():
                for method in names:
                    keys = leaving_out.setdefault(method, [])
                    if key not in keys:
                        keys.append(key)
    for method in config["methods"]:
        if method not in runs_somewhere:
            where = (f"{' and '.join(leaving_out[method])} leave it out; remove it there or from methods"
                     if method in leaving_out else "no dataset lists a setting")
            raise OcbenchError(f"config methods: method {method!r} runs nowhere: {where}")


def _refuse_narrowing_lists(config: dict) -> None:
    """A ``methods`` list under a setting or a dataset (the lists that once narrowed the global one):
    one line saying what replaced it, rather than the schema's unknown key."""
    for kind in ("settings", "datasets"):
        blocks = config.get(kind)
        for name, block in (blocks.items() if isinstance(blocks, dict) else ()):
            if isinstance(block, dict) and "methods" in block:
                raise OcbenchError(
                    f"config {kind}.{name}.methods: a {kind[:-1]} does not list the methods it runs; every method "
                    f"of the top-level methods runs everywhere, except those named under {kind}.{name}.exclude_methods")

def _check_training(where: str, training: dict) -> None:
    """Each value of the ``training`` blocks within its declaration (what the schema cannot say: 3.0 is no
    number of epochs, a NaN no learning rate), as the training loop will check it inside the job."""
    for block, declarations in TRAINING_BLOCK_DECLARATIONS.items():
        for key, value in (training.get(block) or {}).items():
            if key in declarations and not declarations[key].accepts(value):
                raise OcbenchError(f"config {where}.{block}.{key}: {value!r} is not allowed; "
                                   f"allowed: {declarations[key].describe()}")


def _check_setting_classes(dataset: str, setting_name: str, setting: dict, n_classes: int,
                           normal_groups: list[list[int]]) -> None:
    """The split's class rules (``splits.check_classes``, the one place for them) for every
    normal group of the dataset, named by config key and dataset; the known-class expansion
    (``known_outlier_class: all`` or a list) has its own checks."""
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


#: the fewest training samples (and samples a batch) a method can learn from: batch norm in
#: training mode cannot normalise one sample, nor can a kernel width or a quantile come from one
MIN_TRAINING_SAMPLES = 2


def _check_training_sizes(config: dict, name: str, setting_name: str, group: list[int], chosen: list[str]) -> None:
    """Enough outliers for the setting's ratios, and no batch larger than the training set."""
    setting = config["settings"][setting_name]
    where = f"datasets.{name} (setting {setting_name!r}, normal classes {normal_name(group)})"
    try:
        n_train = training_set_size(name, group, setting)
    except OcbenchError as err:
        raise OcbenchError(f"config {where}: {err}") from None
    if n_train is not None and n_train < MIN_TRAINING_SAMPLES:
        raise OcbenchError(f"config {where}: the training set holds {n_train} sample(s); every method needs at "
                           f"least {MIN_TRAINING_SAMPLES} (batch norm, kernel widths, score quantiles)")
    batch_sizes = []  # (batch size, its config key, drop_last)
    if any(needs_autoencoder(config, m) for m in chosen):
        autoencoder = autoencoder_params(config, name)
        batch_sizes.append((autoencoder["batch_size"],
                            f"datasets.{name}.training.autoencoder.batch_size"
                            if "batch_size" in config["datasets"][name].get("training", {}).get("autoencoder", {})
                            else "training.autoencoder.batch_size", autoencoder.get("drop_last", False)))
    for method in chosen:
        params = method_params(config, name, method)
        if params.get("batch_size") is not None:
            batch_sizes.append((params["batch_size"], _key_of(config, name, method, "batch_size"),
                                params.get("drop_last", False)))
    for size, key, drop_last in batch_sizes:
        if n_train is not None and size > n_train:
            # with drop_last the epoch would hold no batch at all (training.batches refuses it too)
            dropped = "; with drop_last every epoch would be empty" if drop_last else ""
            raise OcbenchError(f"config {key}: batch size {size} is larger than the {n_train} training samples "
                               f"of {where}{dropped}; allowed: at most {n_train}")


def cuda_missing_reason() -> str | None:
    """Why this machine cannot run a CUDA job, or None when it can.

    Without an NVIDIA driver (no ``/proc/driver/nvidia``, no ``nvidia-smi``) torch is not
    imported at all; with one, torch is asked, since a CPU-only build cannot use it.
    """
    if not Path("/proc/driver/nvidia/version").exists() and shutil.which("nvidia-smi") is None:
        return "this machine has no NVIDIA driver (no /proc/driver/nvidia, no nvidia-smi)"
    import torch  # here: only with an NVIDIA driver, so a config check never imports torch elsewhere

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


#: where a dataset's raw files come from without a download, for the datasets a system package ships
MIRROR_PACKAGES = {"fmnist": "apt-get install dataset-fashion-mnist puts them in /usr/share/datasets/fashion-mnist"}


def _check_mirror(where: str, dataset: dict, source) -> None:
    """A ``mirror`` must be an existing folder (holding the files the source declares it needs):
    the fetch job would fail on it much later."""
    mirror = dataset.get("mirror")
    if mirror and not Path(mirror).is_dir():
        package = f" ({MIRROR_PACKAGES[source.name]})" if source.name in MIRROR_PACKAGES else ""
        raise OcbenchError(f"config {where}.mirror: folder {mirror} does not exist; put the raw files of dataset "
                           f"{source.name!r} there{package}, or remove mirror")
    if mirror and source.check_mirror is not None:
        try:
            source.check_mirror(Path(mirror))
        except OcbenchError as err:
            raise OcbenchError(f"config {where}.mirror: {err}") from None


def _check_init(where: str, config: dict, dataset: str) -> None:
    """``training.init`` must name a reference that defines the dataset's net (nets.reference_init)."""
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
        _check_constructor(method)
    _check_training("training", config["training"])
    for name, params in config["method_params"].items():
        _check_name("method_params", "method", name, methods)
        _check_hyper_parameters(f"method_params.{name}", name, params)
    for name, setting in config["settings"].items():
        if parse_setting_name(name)[1] is not None:
            raise OcbenchError(f"config settings: setting name {name!r} ends in '.k<class>', the grid's name of a "
                               "setting with one known outlier class; rename it")
        _check_setting_ratios(name, setting)
        for method in setting.get("exclude_methods", []):  # any registered method: the global list may change
            _check_name(f"settings.{name}.exclude_methods", "method", method, methods)

    for name, dataset in config["datasets"].items():
        _check_name("datasets", "dataset", name, datasets)
        _fill_dataset_defaults(name, dataset, config)
        where = f"datasets.{name}"
        _check_training(f"{where}.training", dataset["training"])
        _check_name(f"{where}.net", "net", dataset["net"], nets)
        _check_name(f"{where}.preprocessing", "preprocessing", dataset["preprocessing"], preprocessings)
        _check_fits_dataset(where, name, dataset)
        _check_init(where, config, name)
        _check_mirror(where, dataset, datasets[name])
        for method in dataset.get("exclude_methods", []):
            _check_name(f"{where}.exclude_methods", "method", method, methods)
        for method, params in dataset["method_params"].items():
            _check_name(f"{where}.method_params", "method", method, methods)
            _check_hyper_parameters(f"{where}.method_params.{method}", method, params)

        n_classes = len(datasets[name].classes)
        # 'all' and drawn groups become explicit lists here, in place: the grid and the paths name the classes
        dataset["normal_classes"] = expand_normal_classes(
            dataset["normal_classes"], n_classes, f"config {where}.normal_classes", f"dataset {name!r}")
        groups = [[item] if isinstance(item, int) else item for item in dataset["normal_classes"]]
        if datasets[name].kind == "tabular" and groups != [[0]]:
            raise OcbenchError(f"config {where}.normal_classes: {dataset['normal_classes']} for tabular dataset "
                               f"{name!r}, whose class 0 is the normal data and class 1 the outliers (its labels "
                               "are the ground truth, not classes to choose from); allowed: [0]")
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
            if setting.get("transductive") is not None:  # first: it names a conflict with the settings below
                from ..data.splits import check_transductive_setting
                check_transductive_setting(f"settings.{setting_name} (dataset {name!r})", setting,
                                           datasets[name].kind, n_classes)
            if setting.get("anomaly_datasets"):
                check_anomaly_setting(f"settings.{setting_name} (dataset {name!r})", name, setting, datasets)
            if setting.get("attack"):
                check_attack_setting(f"settings.{setting_name} (dataset {name!r})", name, setting, datasets)
            _check_setting_classes(name, setting_name, setting, n_classes, groups)
            chosen = dataset_methods(config, name, setting_name)
            if not chosen:
                raise OcbenchError(f"config {where}: no method is left for setting {setting_name!r} once "
                                   f"{' and '.join(excluding_lists(config, name, setting_name))} are applied")
            if not setting_has_labelled_anomalies(setting):
                for method in chosen:
                    if methods[method].needs_labels:
                        raise OcbenchError(
                            f"config {where}: method {method!r} learns from labelled anomalies but setting "
                            f"{setting_name!r} has none (ratio_known_outlier {setting['ratio_known_outlier']:g}, "
                            f"n_known_outlier_classes {setting['n_known_outlier_classes']}); name it under "
                            f"settings.{setting_name}.exclude_methods or give the setting ratio_known_outlier > 0 "
                            "and n_known_outlier_classes >= 1")
            for group in groups:
                _check_training_sizes(config, name, setting_name, group, chosen)
    _check_every_method_runs(config)
    return config


def load_and_validate(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` (schema, then registry checks), fill every default in place, return it.

    The config's ``plugins`` are imported between the two, so that the registry checks
    know the methods, datasets and nets they add (ocbench.plugins)."""
    if not isinstance(config, dict) or not config:
        raise OcbenchError("config is empty; give a config file (see config.yaml)")
    _refuse_narrowing_lists(config)
    validate_schema(config, schema_path)
    load_plugins(config.get("plugins"))
    return check_semantics(config)
