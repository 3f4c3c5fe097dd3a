"""Preprocessing of a run's arrays: whole-array numpy transforms, computed once per run.

Each transform takes the raw training and test arrays and ``fit_mask``, the training rows
its statistics are fitted on, and returns float32 arrays. Nothing here runs per sample
or per epoch (REFERENCE.md, Preprocessing).

- ``gcn_minmax`` (Deep SVDD, images): to [0, 1], global contrast normalisation with the
  L1 norm, then min-max scaling with the min and max of the GCN'd *normal-class*
  training images. The reference hard-codes these bounds per class; they are computed
  here from the data.
- ``unit`` (Deep SAD, images): to [0, 1] only.
- ``standard_minmax`` (tabular): a standard scaler fitted on the training rows, then a
  min-max scaler fitted on the standardised training rows; both applied to test.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import OcbenchError, check_choice


def to_unit(x: np.ndarray) -> np.ndarray:
    """8-bit pixels to float32 in [0, 1] (what torchvision's ``ToTensor`` does)."""
    if x.dtype != np.uint8:
        raise OcbenchError(f"image preprocessing expects uint8 pixels, got {x.dtype}")
    return x.astype(np.float32) / np.float32(255.0)


def gcn_l1(x: np.ndarray) -> np.ndarray:
    """Global contrast normalisation per sample: subtract its mean, divide by its mean absolute value.

    Every axis but the first is one sample's features. A constant image has mean
    absolute value 0; it is left at 0 rather than turned into NaN.
    """
    axes = tuple(range(1, x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    scale = np.abs(centred).mean(axis=axes, keepdims=True)
    return centred / np.where(scale > 0, scale, 1).astype(centred.dtype)


def gcn_l2(x: np.ndarray) -> np.ndarray:
    """Global contrast normalisation with the L2 norm per sample: subtract its mean, divide by the
    Euclidean norm of the result (the OC-NN authors' ``global_contrast_normalization(scale="l2")``).

    Their CIFAR-10 loader applies it after /255 for the normal classes 1, 3, 5, 6, 7 and 9
    only (the transductive protocol's ``gcn_classes``). A constant image is left at 0.
    """
    axes = tuple(range(1, x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    norm = np.sqrt((centred ** 2).sum(axis=axes, keepdims=True))
    return centred / np.where(norm > 0, norm, 1).astype(centred.dtype)


def minmax_scale(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """(x − low) / (high − low): fitted bounds map to 0 and 1; other data may fall outside."""
    if not high > low:
        raise OcbenchError(f"min-max scaling needs max > min, got min {low} and max {high} "
                           "(are all fitted samples identical?)")
    return (x - np.float32(low)) / np.float32(high - low)


def gcn_bounds(x_gcn: np.ndarray, fit_mask: np.ndarray) -> tuple[float, float]:
    """Min and max of the GCN'd rows chosen by ``fit_mask`` (the reference's per-class constants)."""
    fitted = x_gcn[fit_mask]
    return float(fitted.min()), float(fitted.max())


def gcn_minmax(x_train, x_test, fit_mask):
    train, test = gcn_l1(to_unit(x_train)), gcn_l1(to_unit(x_test))
    low, high = gcn_bounds(train, fit_mask)
    return minmax_scale(train, low, high), minmax_scale(test, low, high)


def unit(x_train, x_test, fit_mask):
    return to_unit(x_train), to_unit(x_test)


def standard_minmax(x_train, x_test, fit_mask):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler  # here: the image transforms need none

    fit_rows = np.asarray(x_train, dtype=np.float64)[fit_mask]
    standard = StandardScaler().fit(fit_rows)
    minmax = MinMaxScaler().fit(standard.transform(fit_rows))

    def apply(x):
        return minmax.transform(standard.transform(np.asarray(x, dtype=np.float64)))

    return apply(x_train), apply(x_test)


PREPROCESSINGS: dict[str, Callable] = {
    "gcn_minmax": gcn_minmax,
    "unit": unit,
    "standard_minmax": standard_minmax,
}

#: the kind of data (``DatasetSource.kind``) each transform is made for: the image ones
#: take 8-bit pixels, the scalers take one row of features per sample
DATA_KINDS: dict[str, str] = {"gcn_minmax": "image", "unit": "image", "standard_minmax": "tabular"}

# Deep SVDD's min-max bounds come from the normal class only; the other transforms fit
# on every training row (Deep SAD and ODDS protocols).
FITS_ON_NORMAL_CLASSES = frozenset({"gcn_minmax"})


def preprocess(name: str, x_train_raw: np.ndarray, x_test_raw: np.ndarray,
               fit_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply preprocessing ``name``, fitted on the training rows ``fit_mask``; float32 arrays out."""
    check_choice("preprocessing", name, PREPROCESSINGS)
    fit_mask = np.asarray(fit_mask, dtype=bool)
    if fit_mask.shape != (len(x_train_raw),):
        raise OcbenchError(f"fit_mask has shape {fit_mask.shape}, expected ({len(x_train_raw)},)")
    if not fit_mask.any():
        raise OcbenchError(f"preprocessing {name!r} has no training row to fit on (fit_mask is all False)")
    x_train, x_test = PREPROCESSINGS[name](x_train_raw, x_test_raw, fit_mask)
    return np.ascontiguousarray(x_train, dtype=np.float32), np.ascontiguousarray(x_test, dtype=np.float32)
