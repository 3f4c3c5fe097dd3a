"""A validated config resolved into what one job needs: a method's hyper-parameters, the autoencoder's
and the classifier's training settings, a setting's split parameters, a dataset's mirror."""
from __future__ import annotations

from ..errors import OcbenchError
from .names import (
    _methods, base_setting, expands_known_class, hyper_parameter_names, known_setting_name,
    parse_setting_name)


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
    if config["settings"][base].get("transductive") is not None:  # scored on its training images (data/splits.py)
        params["transductive"] = dict(config["settings"][base]["transductive"])
        del params["validation_fraction"]  # every image of the set is scored: no share is held out
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
