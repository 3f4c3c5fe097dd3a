"""Registry access and the grid's names: datasets, methods, nets and preprocessings by name (plain data,
no torch), normal-class and setting names, and the known-outlier-class expansion of a setting."""
from __future__ import annotations

import re

from ..data.preprocess import PREPROCESSINGS
from ..data.registry import DATASETS
from ..detectors import METHODS
from ..errors import OcbenchError
from ..nets import NETS


#: detector arguments the workflow sets for every run; a config may not set them
WORKFLOW_ARGUMENTS = ("net", "device", "seed", "autoencoder")


#: detector arguments that the method name itself fixes (deep_svdd_oneclass -> objective)
FIXED_BY_METHOD = ("objective",)


#: methods that do not train on a device run once, under this device name
HOST_DEVICE = "cpu"


# The registries (plain data: no torch), read through these functions, which plugins' additions reach too.
def _datasets():
    return DATASETS


def _methods():
    return METHODS


def _nets():
    return NETS


def _preprocessings():
    return PREPROCESSINGS


def _check_name(where: str, what: str, value, allowed) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise OcbenchError(f"config {where}: unknown {what} {value!r}; allowed: {', '.join(map(str, allowed))}")


def hyper_parameter_names(method: str) -> tuple[str, ...]:
    """The names a config may set for ``method``, as its ``MethodSpec`` declares them.

    A method that only scores with the pretrained autoencoder (``fits=False``) has none
    of its own: its autoencoder is configured under ``training.autoencoder``. The
    declaration is plain data: reading it imports neither torch nor scikit-learn. Not
    cached: a plugin loaded again replaces its methods (``ocbench.plugins``).
    """
    spec = _methods()[method]
    return tuple(spec.hyper_parameters) if spec.fits else ()


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
    return setting["ratio_known_normal"] > 0 or setting_has_labelled_anomalies(setting)


def setting_has_labelled_anomalies(setting: dict) -> bool:
    """Whether a split of this setting holds labelled anomalies (-1 semi-labels)."""
    return setting["ratio_known_outlier"] > 0 and setting["n_known_outlier_classes"] > 0


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


def excluding_lists(config: dict, dataset: str, setting: str) -> dict[str, list[str]]:
    """The ``exclude_methods`` lists that apply to a dataset and a (config) setting, by config key."""
    return {f"datasets.{dataset}.exclude_methods": config["datasets"][dataset].get("exclude_methods", []),
            f"settings.{setting}.exclude_methods": config["settings"][setting].get("exclude_methods", [])}


def dataset_methods(config: dict, dataset: str, setting: str) -> list[str]:
    """The global methods that run on ``dataset`` in ``setting``: all but those that the dataset's or
    the setting's ``exclude_methods`` name (so a method added to the global list runs everywhere)."""
    setting = base_setting(config, setting)
    excluded = {m for names in excluding_lists(config, dataset, setting).values() for m in names}
    return [m for m in config["methods"] if m not in excluded]
