"""Tabular datasets: six ODDS ``.mat`` files, and ``wbc`` and ``wine`` built from scikit-learn.

Every tabular set is prepared as ``{"x": float64 N×D, "y": int64}`` with ``y`` 0 for a
normal sample and 1 for an outlier (docs/architecture.md); the train/test split is drawn
later (``splits.py``).

ODDS (Outlier Detection DataSets, Rayana 2016): the files come from the Dropbox links the
Deep SAD reference downloads (``src/base/odds_dataset.py``), or from a local mirror folder
holding ``<name>.mat``. Each file is checked against a pinned sha256 before it is used.

``wbc`` and ``wine`` follow the ODDS recipes on scikit-learn's bundled copies of the UCI
data, so they need no download:

- ``wbc``: the 357 benign tumours of the Wisconsin Diagnostic Breast Cancer set as normal,
  plus 21 malignant ones drawn with a fixed seed as outliers (378 × 30). ODDS ``wbc`` has
  the same sizes but its own, unpublished choice of the 21 malignant samples, so the two
  sets are related, not identical.
- ``wine``: wine classes 2 and 3 (71 + 48) as normal, plus 10 samples of class 1 drawn with
  a fixed seed as outliers (129 × 13), the recipe of ODDS ``wine``; again the drawn
  outliers are not ODDS's.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import OcbenchError
from ..files import download, sha256_file
from .dataset_source import DatasetSource

log = logging.getLogger("ocbench.data.tabular")

CLASSES = ("normal", "outlier")


# --------------------------------------------------------------------------- ODDS files

@dataclass(frozen=True)
class OddsFile:
    """Where one ODDS ``.mat`` file is downloaded from and the sha256 it must have."""

    url: str
    sha256: str


# URLs: the Deep SAD reference (lukasruff/Deep-SAD-PyTorch, src/base/odds_dataset.py).
# sha256: OutlierDetectionJL/OutlierDetectionData.jl, src/ODDS/ODDS.jl, which registers the
# same Dropbox URLs with DataDeps.jl (a bare checksum string there is a SHA2-256) and
# downloads every file in its test suite.
# Contents (samples × features, outliers): arrhythmia 452 × 274, 66; cardio 1831 × 21, 176;
# satellite 6435 × 36, 2036; satimage-2 5803 × 36, 71; shuttle 49097 × 9, 3511;
# thyroid 3772 × 6, 93.
ODDS_FILES: dict[str, OddsFile] = {
    "arrhythmia": OddsFile(
        "https://www.dropbox.com/s/lmlwuspn1sey48r/arrhythmia.mat?dl=1",
        "e4d47e499591ae31e5d7f0cd983367092353eac240f48e14c9b36457edb3460d"),
    "cardio": OddsFile(
        "https://www.dropbox.com/s/galg3ihvxklf0qi/cardio.mat?dl=1",
        "5e568b6a73711012c481fa6cc984ab9c68e9a4fa44d6aeb3b43efa381c3f695b"),
    "satellite": OddsFile(
        "https://www.dropbox.com/s/dpzxp8jyr9h93k5/satellite.mat?dl=1",
        "6feac3112b9c14e1c3e60afc437f2f3d29dc1000119c9f950c628078778d6aa0"),
    "satimage-2": OddsFile(
        "https://www.dropbox.com/s/hckgvu9m6fs441p/satimage-2.mat?dl=1",
        "95c37a07cea2cb201f6900d14f521510e10b6b2f0074c06ac46d3157440ec67b"),
    "shuttle": OddsFile(
        "https://www.dropbox.com/s/mk8ozgisimfn3dw/shuttle.mat?dl=1",
        "b6e396c92354d5dcf5036901e36dc58e2913f2d1a5e138c35a2bedf9c69db899"),
    "thyroid": OddsFile(
        "https://www.dropbox.com/s/bih0e15a0fukftb/thyroid.mat?dl=1",
        "49155d7861b977e90808faf68343ff67a67f63090c2744d514dbb67ac68e7e33"),
}


def fetch_odds(name: str, raw_dir: Path, mirror: Path | None) -> None:
    """Put a verified ``<name>.mat`` in ``raw_dir``: copied from ``mirror`` or downloaded.

    The file is written under a temporary name and renamed only once its sha256 matches,
    so ``raw_dir`` never holds an unverified or half-written file.
    """
    expected = ODDS_FILES[name].sha256
    target = Path(raw_dir) / f"{name}.mat"
    if target.is_file():
        if sha256_file(target) == expected:
            return
        log.warning("%s does not match its pinned sha256; fetching it again", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial_file = target.with_name(target.name + ".part")
    if mirror is not None:
        origin = Path(mirror) / target.name
        if not origin.is_file():
            raise OcbenchError(f"dataset {name!r}: the mirror folder {mirror} holds no {target.name}; "
                               f"put the ODDS file {target.name} there or set datasets.{name}.mirror to null")
        shutil.copyfile(origin, partial_file)
    else:
        origin = ODDS_FILES[name].url
        download(origin, partial_file, f"dataset {name!r}", f"without internet, put {name}.mat in a folder and "
                 f"set datasets.{name}.mirror to that folder")
    seen = sha256_file(partial_file)
    if seen != expected:
        partial_file.unlink()
        raise OcbenchError(f"dataset {name!r}: {origin} has sha256 {seen}, expected {expected}; "
                           f"it is not the ODDS file this benchmark pins")
    os.replace(partial_file, target)
    log.info("dataset %s: %s verified (sha256 %s)", name, target, seen)


def read_odds_mat(path: Path) -> dict[str, np.ndarray]:
    """The arrays of one ODDS ``.mat`` file: ``x`` float64 N×D and ``y`` int64 0/1."""
    path = Path(path)
    if not path.is_file():
        raise OcbenchError(f"ODDS file {path} does not exist; fetch the dataset first")
    try:
        import scipy.io  # here, not at the top: the dataset registry is read without scipy

        content = scipy.io.loadmat(path)
    except NotImplementedError:  # scipy reads MATLAB v4-v7.2; v7.3 files are HDF5
        content = _read_hdf5_mat(path)
    except ValueError as error:
        raise OcbenchError(f"ODDS file {path} is not a readable .mat file ({error})") from None
    found = sorted(key for key in content if not key.startswith("__"))
    if "X" not in content or "y" not in content:
        raise OcbenchError(f"ODDS file {path} must hold the variables 'X' and 'y'; "
                           f"found: {', '.join(found) or 'none'}")
    x = np.asarray(content["X"], dtype=np.float64)
    y = np.asarray(content["y"]).ravel()
    if x.ndim != 2 or len(x) != len(y):
        raise OcbenchError(f"ODDS file {path}: X must be N×D with one label in y per row; "
                           f"got X {x.shape} and {len(y)} labels")
    labels = set(np.unique(y).tolist())
    if not labels <= {0, 1}:
        raise OcbenchError(f"ODDS file {path}: y must hold 0 (normal) and 1 (outlier) only; "
                           f"found {sorted(labels)}")
    return {"x": x, "y": y.astype(np.int64)}


def _read_hdf5_mat(path: Path) -> dict[str, np.ndarray]:
    try:
        import h5py
    except ImportError:
        raise OcbenchError(f"ODDS file {path} is a MATLAB v7.3 (HDF5) file; reading it needs the "
                           f"h5py package, which is not installed (pip install h5py)") from None
    try:
        with h5py.File(path, "r") as file:
            # MATLAB stores arrays column-major: h5py sees them transposed.
            return {key: np.asarray(value).T for key, value in file.items() if isinstance(value, h5py.Dataset)}
    except OSError as error:
        raise OcbenchError(f"ODDS file {path} claims to be a MATLAB v7.3 file "
                           f"but is not readable HDF5 ({error})") from None


def prepare_odds(name: str, raw_dir: Path) -> dict[str, np.ndarray]:
    return read_odds_mat(Path(raw_dir) / f"{name}.mat")


# --------------------------------------------------------------------------- scikit-learn sets

# Part of the definition of wbc and wine: another seed draws other outliers, another dataset.
OUTLIER_DRAW_SEED = 0


def normal_plus_drawn_outliers(x: np.ndarray, is_normal: np.ndarray, is_outlier_pool: np.ndarray,
                               n_outliers: int) -> dict[str, np.ndarray]:
    """All normal rows plus ``n_outliers`` rows drawn without replacement from the outlier pool.

    Rows keep their order in ``x``, so the result depends on the seed only through the draw.
    """
    pool = np.flatnonzero(is_outlier_pool)
    drawn = np.random.default_rng(OUTLIER_DRAW_SEED).choice(pool, size=n_outliers, replace=False)
    is_drawn = np.zeros(len(x), dtype=bool)
    is_drawn[drawn] = True
    keep = is_normal | is_drawn
    return {"x": np.asarray(x[keep], dtype=np.float64), "y": is_drawn[keep].astype(np.int64)}


def prepare_wbc(raw_dir: Path | None = None) -> dict[str, np.ndarray]:
    """WDBC: 357 benign (normal) + 21 drawn malignant (outliers), 30 features."""
    from sklearn.datasets import load_breast_cancer  # here: the registry is read without scikit-learn

    data = load_breast_cancer()
    benign = data.target == 1  # scikit-learn's target: 0 malignant, 1 benign
    return normal_plus_drawn_outliers(data.data, benign, ~benign, n_outliers=21)


def prepare_wine(raw_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Wine: classes 2 and 3 (normal) + 10 drawn samples of class 1 (outliers), 13 features."""
    from sklearn.datasets import load_wine

    data = load_wine()
    class_1 = data.target == 0  # scikit-learn numbers the wine classes 1, 2, 3 as 0, 1, 2
    return normal_plus_drawn_outliers(data.data, ~class_1, class_1, n_outliers=10)


def fetch_nothing(raw_dir: Path, mirror: Path | None) -> None:
    """The scikit-learn sets ship with scikit-learn: nothing to download, any mirror is unused."""


# --------------------------------------------------------------------------- registry

def _tabular(name: str, fetch, prepare) -> DatasetSource:
    return DatasetSource(name=name, kind="tabular", classes=CLASSES, fetch=fetch, prepare=prepare,
                         default_net=f"{name}_mlp", default_preprocessing="standard_minmax")


TABULAR_SOURCES: dict[str, DatasetSource] = {
    **{name: _tabular(name, partial(fetch_odds, name), partial(prepare_odds, name)) for name in ODDS_FILES},
    "wbc": _tabular("wbc", fetch_nothing, prepare_wbc),
    "wine": _tabular("wine", fetch_nothing, prepare_wine),
}
