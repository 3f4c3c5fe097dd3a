"""The multi-class setting: the normal classes of one dataset against the test images of other datasets.

All classes (or a chosen list) of one image dataset are normal. The training set is
every training image of the normal classes; the test set is that dataset's test
images of the normal classes (label 0) followed by test images of the setting's
*anomaly datasets* (label 1): all of them, or ``anomalies_per_dataset`` of each, drawn
by seed. Test images of the normal dataset's other classes are left out, so every
anomaly comes from another dataset (the multi-class Deep SVDD fork: MNIST against
Fashion-MNIST, KMNIST, EMNIST letters; CIFAR-10 against SVHN, CIFAR-100).

The split records where each test sample comes from: ``test_source`` (0 the normal
dataset, ``i`` the ``i``-th name of ``info["test_sources"]``) with ``test_idx`` the
row of that dataset's prepared ``x_test`` and ``test_class`` its class there. The
anomaly datasets' prepared files lie beside the normal one (``prepared/{name}.npz``).

When a run loads the split, the anomaly images are converted to the normal dataset's
image shape with the conversions the setting lists (``gray_to_rgb``, ``rgb_to_gray``,
``resize``; none is ever applied silently), then go through the normal dataset's
preprocessing with the test images of the normal dataset. That preprocessing is fitted
on the training set, so its statistics (the min-max bounds of ``gcn_minmax``) come from
the normal training data only.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import OcbenchError
from . import splits
from .images.catalog import TEST_SET_SIZES, same_images
from .prepared import load_prepared
from .splits import check_unsupervised_setting, load_split

CONVERSIONS = ("gray_to_rgb", "rgb_to_gray", "resize")
#: split params of a setting with anomaly datasets (``config.split_params`` adds them)
ANOMALY_KEYS = ("anomaly_datasets", "anomalies_per_dataset", "conversions")

# ITU-R 601-2 luma, the weights of PIL's convert("L")
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)


# --------------------------------------------------------------------------- shapes and conversions

def _shape_text(shape) -> str:
    return "×".join(str(n) for n in shape)


def needed_conversions(anomaly_shape, normal_shape) -> list[str]:
    """The conversions that turn C×H×W images of ``anomaly_shape`` into ``normal_shape``, in the order applied.

    Raises when no listed conversion can do it (a channel count other than 1 or 3).
    """
    (c_from, *size_from), (c_to, *size_to) = tuple(anomaly_shape), tuple(normal_shape)
    needed = []
    if c_from != c_to:
        if (c_from, c_to) == (1, 3):
            needed.append("gray_to_rgb")
        elif (c_from, c_to) == (3, 1):
            needed.append("rgb_to_gray")
        else:
            raise OcbenchError(f"no conversion turns {c_from}-channel images into {c_to}-channel ones; "
                               f"allowed: {', '.join(CONVERSIONS)}")
    if size_from != size_to:
        needed.append("resize")
    return needed


def _resize(x: np.ndarray, height: int, width: int) -> np.ndarray:
    from PIL import Image  # here: only a resizing conversion needs Pillow; the config check does not

    out = np.empty(x.shape[:2] + (height, width), dtype=np.uint8)
    for i, image in enumerate(x):
        for c, channel in enumerate(image):
            out[i, c] = np.asarray(Image.fromarray(channel).resize((width, height), Image.BILINEAR))
    return out


def convert_images(x: np.ndarray, normal_shape, conversions, name: str = "anomaly dataset") -> np.ndarray:
    """uint8 ``N×C×H×W`` images converted to ``normal_shape`` with the allowed ``conversions``.

    Channels first (gray to RGB repeats the channel; RGB to gray is ITU-R 601-2 luma,
    rounded), then a bilinear resize (PIL) of each channel. A needed conversion that is
    not allowed raises, naming it.
    """
    needed = needed_conversions(x.shape[1:], normal_shape)
    missing = [c for c in needed if c not in conversions]
    if missing:
        raise OcbenchError(f"{name}: images {_shape_text(x.shape[1:])} need the conversions {', '.join(missing)} "
                           f"to become {_shape_text(normal_shape)}, which the setting does not list")
    if "gray_to_rgb" in needed:
        x = np.repeat(x, 3, axis=1)
    elif "rgb_to_gray" in needed:
        luma = np.tensordot(x.astype(np.float64), _LUMA, axes=([1], [0]))
        x = np.clip(np.rint(luma), 0, 255).astype(np.uint8)[:, None]
    if "resize" in needed:
        x = _resize(x, *tuple(normal_shape)[1:])
    return np.ascontiguousarray(x, dtype=np.uint8)


# --------------------------------------------------------------------------- config checks

def check_anomaly_setting(where: str, dataset: str, setting: dict, datasets: dict) -> None:
    """The config checks of one (normal dataset, setting with anomaly datasets); one line each.

    ``datasets``: the registry (``registry.DATASETS``). Checks that every anomaly dataset
    is a registered image dataset other than the normal one, that the setting lists the
    conversions its image shapes need, that it asks for no more images than a test set
    holds, and that it sets no semi-supervised ratio.
    """
    source = datasets[dataset]
    names = setting["anomaly_datasets"]
    if source.kind != "image":
        raise OcbenchError(f"config {where}: anomaly_datasets need an image dataset as the normal one, but "
                           f"{dataset!r} is {source.kind}")
    check_unsupervised_setting(where, setting, "anomaly_datasets", "its anomalies come from other datasets")
    image_sets = [n for n, s in datasets.items() if s.kind == "image" and not same_images(n, dataset)]
    for name in names:
        if name not in datasets:
            raise OcbenchError(f"config {where}.anomaly_datasets: unknown dataset {name!r}; "
                               f"allowed: {', '.join(image_sets)}")
        if same_images(name, dataset):
            what = ("is the normal dataset" if name == dataset
                    else f"holds the same images as the normal dataset {dataset!r}")
            raise OcbenchError(f"config {where}.anomaly_datasets: {name!r} {what}; the anomalies must come from "
                               f"another dataset; allowed: {', '.join(image_sets)}")
        other = datasets[name]
        if other.kind != "image":
            raise OcbenchError(f"config {where}.anomaly_datasets: {name!r} is a {other.kind} dataset; "
                               f"allowed: {', '.join(image_sets)}")
        if source.sample_shape is not None and other.sample_shape is not None:
            try:
                needed = needed_conversions(other.sample_shape, source.sample_shape)
            except OcbenchError as err:
                raise OcbenchError(f"config {where}.anomaly_datasets: {name!r} cannot become images of "
                                   f"{dataset!r}: {err}") from None
            missing = [c for c in needed if c not in setting.get("conversions", [])]
            if missing:
                raise OcbenchError(
                    f"config {where}.conversions: anomaly dataset {name!r} has {_shape_text(other.sample_shape)} "
                    f"images and normal dataset {dataset!r} {_shape_text(source.sample_shape)}; add "
                    f"{' and '.join(missing)} to the setting's conversions")
        count, size = setting.get("anomalies_per_dataset"), TEST_SET_SIZES.get(name)
        if count is not None and size is not None and count > size:
            raise OcbenchError(f"config {where}.anomalies_per_dataset: {count} images asked for but the test set "
                               f"of {name!r} holds {size}; allowed: at most {size}, or null for all")


# --------------------------------------------------------------------------- the split

def _draw_anomalies(n_test: int, count, rng: np.random.Generator, name: str) -> np.ndarray:
    if count is None:
        return np.arange(n_test, dtype=np.int64)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise OcbenchError(f"anomalies_per_dataset must be a positive integer or None (all), got {count!r}")
    if count > n_test:
        raise OcbenchError(f"anomalies_per_dataset {count} exceeds the {n_test} test images of {name!r}")
    return np.sort(rng.choice(n_test, size=int(count), replace=False)).astype(np.int64)


def make_anomaly_split(prepared: dict, dataset: str, normal_classes, seed: int, anomalies: dict[str, dict],
                       anomaly_datasets, anomalies_per_dataset=None, conversions=(), **others) -> dict:
    """The split of the multi-class setting; a pure function of its arguments.

    ``prepared``: the normal dataset's prepared arrays; ``anomalies``: name → prepared
    arrays of each anomaly dataset (only ``x_test``'s length and ``y_test`` are read).
    ``others``: the setting's remaining split parameters: the semi-supervised ratios,
    which must be 0, and ``validation_fraction`` when the split holds out a
    validation share (``splits.validation_share``).
    """
    names = list(anomaly_datasets)
    if not names:
        raise OcbenchError("anomaly_datasets is empty; name at least one other dataset")
    for name in names:
        if same_images(name, dataset):
            raise OcbenchError(f"anomaly dataset {name!r} holds the images of the normal dataset {dataset!r}; "
                               "the anomalies must come from another dataset")
        if name not in anomalies:
            raise OcbenchError(f"anomaly dataset {name!r} has no prepared arrays; give its prepared file")
    normal, y_train, y_test, train_idx = splits.unsupervised_training(prepared, normal_classes, seed, others,
                                                                      "anomaly datasets")
    rng = np.random.default_rng(seed)
    parts_idx = [np.flatnonzero(np.isin(y_test, normal)).astype(np.int64)]
    parts_class = [y_test[parts_idx[0]]]
    for name in names:  # one generator, in the order listed: a dataset added last keeps the earlier draws
        y_other = np.asarray(anomalies[name]["y_test"])
        drawn = _draw_anomalies(len(y_other), anomalies_per_dataset, rng, name)
        parts_idx.append(drawn)
        parts_class.append(y_other[drawn])
    test_source = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(parts_idx)])
    test_label = (test_source > 0).astype(np.int64)
    validation_fraction = others.get("validation_fraction", splits.DEFAULT_VALIDATION_FRACTION)
    info = {**splits.unsupervised_info(normal, seed), "anomaly_datasets": names,
            "anomalies_per_dataset": None if anomalies_per_dataset is None else int(anomalies_per_dataset),
            "conversions": sorted(conversions), "test_sources": [dataset] + names,
            "n_test_from": {name: int(len(p)) for name, p in zip([dataset] + names, parts_idx)},
            "n_train_candidates": int(len(y_train)), "n_train": int(len(train_idx)),
            "n_test": int(len(test_label)), "n_test_normal": int((test_label == 0).sum()),
            "n_test_anomaly": int((test_label == 1).sum())}
    split = {"train_idx": train_idx, "train_semi": np.zeros(len(train_idx), dtype=np.int64),
             "train_class": y_train[train_idx].astype(np.int64), "test_idx": np.concatenate(parts_idx),
             "test_label": test_label, "test_class": np.concatenate(parts_class).astype(np.int64),
             "test_source": test_source}
    # the held-out share of the methods that select on labelled data, as in every split
    validation, evaluation = splits.validation_share(test_label, validation_fraction, int(seed))
    split.update(test_validation=validation, test_evaluation=evaluation)
    info.update(validation_fraction=float(validation_fraction), n_validation=int(len(validation)),
                n_evaluation=int(len(evaluation)))
    split["info"] = json.dumps(info, sort_keys=True)
    return split


def anomaly_prepared_path(prepared_path, name: str) -> Path:
    """Where the prepared file of anomaly dataset ``name`` lies: beside the normal dataset's."""
    return Path(prepared_path).with_name(f"{name}.npz")


def make_anomaly_split_from_files(prepared_path, prepared: dict, dataset: str, normal_classes, seed: int,
                                  params: dict) -> dict:
    """``make_anomaly_split`` with the anomaly datasets' prepared files read from beside ``prepared_path``."""
    anomalies = {name: load_prepared(anomaly_prepared_path(prepared_path, name))
                 for name in params["anomaly_datasets"]}
    return make_anomaly_split(prepared, dataset, normal_classes, seed, anomalies, **params)


# --------------------------------------------------------------------------- loading a run's test images

def cache_fingerprint(prepared_path, split_path) -> bytes:
    """What a split's preprocessed test images depend on besides the split and the normal
    dataset's prepared file: the anomaly datasets' prepared files (inode, size, time, as
    for the normal one) and the conversions' code. Empty for a split of one dataset."""
    names = json.loads(load_split(split_path)["info"]).get("anomaly_datasets") or []
    if not names:
        return b""
    parts = [Path(__file__).read_bytes()]
    for name in names:
        path = anomaly_prepared_path(prepared_path, name)
        try:
            stat = path.stat()
        except OSError:
            raise OcbenchError(f"split {split_path} takes its anomalies from {name!r}, whose prepared file {path} "
                               "does not exist; prepare it (`ocbench prepare`)") from None
        parts.append(f":{name}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:".encode())
    return b"".join(parts)



def split_test_images(prepared_path, prepared: dict, split: dict, split_path) -> np.ndarray:
    """The raw uint8 test images of a split, every source's converted to the normal dataset's shape."""
    info = json.loads(split["info"])
    sources = info.get("test_sources") or []
    test_source = np.asarray(split.get("test_source", np.zeros(len(split["test_idx"]), dtype=np.int64)))
    index = np.asarray(split["test_idx"])
    normal_shape = prepared["x_test"].shape[1:]
    out = np.empty((len(index),) + normal_shape, dtype=np.uint8)
    for position in np.unique(test_source):
        rows = np.flatnonzero(test_source == position)
        if position == 0:
            images, name = prepared["x_test"], str(prepared_path)
        else:
            if position >= len(sources):
                raise OcbenchError(f"split {split_path}: test_source {position} names no dataset (info lists "
                                   f"{sources}); make the split again")
            path = anomaly_prepared_path(prepared_path, sources[position])
            images, name = load_prepared(path)["x_test"], str(path)
        picked = index[rows]
        if len(picked) and (picked.min() < 0 or picked.max() >= len(images)):
            raise OcbenchError(f"split {split_path}: test index {int(picked.max())} is outside the {len(images)} "
                               f"test images of {name}; the split was made from another prepared file, make it again")
        chosen = images[picked]
        if position > 0:
            chosen = convert_images(chosen, normal_shape, info.get("conversions", []),
                                    f"anomaly dataset {sources[position]!r}")
        out[rows] = chosen
    return out
