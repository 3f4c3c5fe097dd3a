"""Data of a run: the prepared dataset, its split and its preprocessing, joined in ``load_run_data``.

The package imports numpy only (no torch): a job that splits data does not pay for the
deep-learning stack. torchvision is imported inside the image sources' functions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ..errors import OcbenchError


@dataclass
class RunData:
    """What a method of one run sees: preprocessed float32 arrays and their labels.

    ``semi_train``: +1 known normal, 0 unlabeled, −1 known outlier. ``train_class`` and
    ``test_class`` are the original class ids; ``y_test`` is 0 normal / 1 anomaly;
    ``test_index`` points into the prepared test array (``x_test``, or ``x`` for tabular).
    """

    x_train: np.ndarray
    semi_train: np.ndarray
    train_class: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_index: np.ndarray
    test_class: np.ndarray


def _pick(source: np.ndarray, index: np.ndarray, what: str, split_path) -> np.ndarray:
    if len(index) and (index.min() < 0 or index.max() >= len(source)):
        raise OcbenchError(f"split {split_path}: {what} index {int(index.max())} is outside the prepared array of "
                           f"{len(source)} rows; the split was made from another prepared file, make it again")
    return source[index]


def load_run_data(prepared_path, split_path, preprocessing: str) -> RunData:
    """Load the prepared arrays and the split, pick the split's rows, preprocess them once."""
    from .prepared import load_prepared
    from .preprocess import FITS_ON_NORMAL_CLASSES, preprocess
    from .splits import load_split

    prepared = load_prepared(prepared_path)
    split = load_split(split_path)
    if "x_train" in prepared:
        train_source, test_source = prepared["x_train"], prepared["x_test"]
    else:
        train_source = test_source = prepared["x"]
    x_train_raw = _pick(train_source, split["train_idx"], "training", split_path)
    x_test_raw = _pick(test_source, split["test_idx"], "test", split_path)
    if preprocessing in FITS_ON_NORMAL_CLASSES:
        normal_classes = json.loads(split["info"])["normal_classes"]
        fit_mask = np.isin(split["train_class"], normal_classes)
    else:
        fit_mask = np.ones(len(x_train_raw), dtype=bool)
    x_train, x_test = preprocess(preprocessing, x_train_raw, x_test_raw, fit_mask)
    return RunData(x_train=x_train, semi_train=split["train_semi"].astype(np.int64),
                   train_class=split["train_class"].astype(np.int64), x_test=x_test,
                   y_test=split["test_label"].astype(np.int64), test_index=split["test_idx"].astype(np.int64),
                   test_class=split["test_class"].astype(np.int64))
