"""Data of a run: the prepared dataset, its split and its preprocessing, joined in ``load_run_data``.

The package imports numpy only (no torch): a job that splits data does not pay for the
deep-learning stack. torchvision is imported inside the image sources' functions.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import OcbenchError, check_choice
from . import adversarial, ood
from . import preprocess as preprocess_module
from .prepared import load_prepared, save_npz
from .preprocess import FITS_ON_NORMAL_CLASSES, PREPROCESSINGS, preprocess
from .splits import TRANSDUCTIVE, load_split, pooled_images, protocol_of


@dataclass
class RunData:
    """What a method of one run sees: preprocessed float32 arrays and their labels.

    ``semi_train``: +1 known normal, 0 unlabeled, −1 known outlier. ``train_class`` and
    ``test_class`` are the original class ids; ``y_test`` is 0 normal / 1 anomaly;
    ``test_index`` points into the prepared test array (``x_test``, or ``x`` for tabular).
    ``validation`` and ``evaluation`` are positions into the test arrays: the share held
    out for the methods that select on labelled data, and the samples every method of
    the split is scored on. ``split_info``: the split's parameters and counts.
    """

    x_train: np.ndarray
    semi_train: np.ndarray
    train_class: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_index: np.ndarray
    test_class: np.ndarray
    validation: np.ndarray
    evaluation: np.ndarray
    split_info: dict


def _pick(source: np.ndarray, index: np.ndarray, what: str, split_path) -> np.ndarray:
    if len(index) and (index.min() < 0 or index.max() >= len(source)):
        raise OcbenchError(f"split {split_path}: {what} index {int(index.max())} is outside the prepared array of "
                           f"{len(source)} rows; the split was made from another prepared file, make it again")
    return source[index]


#: bump when the cache file's layout changes (edits of preprocess.py invalidate it by themselves)
CACHE_FORMAT = 1
#: splits whose preprocessed arrays are larger are not cached: a full-size image split is
#: 50-180 MB of float32 and a paper preset has thousands of splits, while its
#: preprocessing takes a fraction of a second (every split of mnist5k and of the tabular
#: sets is cached)
CACHE_MAX_BYTES = 32 * 2**20


def preprocessing_cache_path(split_path, preprocessing: str) -> Path:
    """Where the preprocessed arrays of a split are cached: a hidden ``.npz`` beside the split."""
    split_path = Path(split_path)
    return split_path.with_name(f".{split_path.stem}.{preprocessing}.preprocessed.npz")


def _cache_key(prepared_path, split_path, preprocessing: str) -> str:
    """What the preprocessed arrays depend on: the split's bytes, the prepared file, the transform's code.

    The prepared file is identified by its inode, size and modification time (hashing a
    large prepared file would cost more than the preprocessing it saves): it is only
    ever replaced as a whole, by renaming a new file into place, which gives it a new inode.
    """
    digest = hashlib.sha256(f"{CACHE_FORMAT}:{preprocessing}".encode())
    digest.update(Path(split_path).read_bytes())
    stat = os.stat(prepared_path)
    digest.update(f":{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:".encode())
    digest.update(Path(preprocess_module.__file__).read_bytes())
    digest.update(ood.cache_fingerprint(prepared_path, split_path))  # the multi-class setting's other datasets
    return digest.hexdigest()


def _read_cache(path: Path, key: str):
    """(x_train, x_test) from the cache file, or None when it is missing, stale or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as cache:
            if str(cache["key"]) != key:
                return None
            return cache["x_train"], cache["x_test"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a cache is never an error: compute the arrays again


def _preprocess_split(prepared_path, split_path, split: dict, preprocessing: str):
    prepared = load_prepared(prepared_path)
    info = json.loads(split["info"])
    if protocol_of(info) == TRANSDUCTIVE:  # indices into the training images, then the test images
        train_source = test_source = pooled_images(prepared)
    elif "x_train" in prepared:
        train_source, test_source = prepared["x_train"], prepared["x_test"]
    else:
        train_source = test_source = prepared["x"]
    x_train_raw = _pick(train_source, split["train_idx"], "training", split_path)
    if split["test_source"].any() and info.get("attack"):  # attacked copies (adversarial.py)
        x_test_raw = adversarial.split_test_images(prepared_path, prepared, split, split_path)
    elif split["test_source"].any():  # the multi-class setting: anomalies from other datasets
        x_test_raw = ood.split_test_images(prepared_path, prepared, split, split_path)
    else:
        x_test_raw = _pick(test_source, split["test_idx"], "test", split_path)
    if preprocessing in FITS_ON_NORMAL_CLASSES:
        fit_mask = np.isin(split["train_class"], info["normal_classes"])
    else:
        fit_mask = np.ones(len(x_train_raw), dtype=bool)
    x_train, x_test = preprocess(preprocessing, x_train_raw, x_test_raw, fit_mask)
    if info.get("gcn_l2"):  # the OC-NN authors' CIFAR-10 loader, for some normal classes (splits.make_transductive_split)
        x_train, x_test = preprocess_module.gcn_l2(x_train), preprocess_module.gcn_l2(x_test)
    return x_train, x_test


def load_run_data(prepared_path, split_path, preprocessing: str, cache: bool = True) -> RunData:
    """Load the split and its preprocessed arrays; the preprocessing is computed once per split.

    With ``cache`` the arrays (up to ``CACHE_MAX_BYTES``) are kept in
    ``preprocessing_cache_path`` (written atomically: concurrent jobs each see a whole
    file, and the last writer wins with the same arrays) and read back by every later job
    of the split while the split file, the prepared file and ``preprocess.py`` are
    unchanged; otherwise they are computed again.
    """
    split = load_split(split_path)
    arrays = None
    if cache:
        check_choice("preprocessing", preprocessing, PREPROCESSINGS)
        if not Path(prepared_path).is_file():
            raise OcbenchError(f"prepared file {prepared_path} does not exist")
        cache_path = preprocessing_cache_path(split_path, preprocessing)
        key = _cache_key(prepared_path, split_path, preprocessing)
        arrays = _read_cache(cache_path, key)
    if arrays is None:
        arrays = _preprocess_split(prepared_path, split_path, split, preprocessing)
        if cache and arrays[0].nbytes + arrays[1].nbytes <= CACHE_MAX_BYTES:
            save_npz({"key": np.array(key), "x_train": arrays[0], "x_test": arrays[1]}, cache_path)
    x_train, x_test = arrays
    return RunData(x_train=x_train, semi_train=split["train_semi"].astype(np.int64),
                   train_class=split["train_class"].astype(np.int64), x_test=x_test,
                   y_test=split["test_label"].astype(np.int64), test_index=split["test_idx"].astype(np.int64),
                   test_class=split["test_class"].astype(np.int64),
                   validation=split["test_validation"].astype(np.int64),
                   evaluation=split["test_evaluation"].astype(np.int64), split_info=json.loads(split["info"]))
