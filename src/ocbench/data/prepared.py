"""The prepared cache of one dataset: its raw arrays and class labels in one ``.npz``.

A dataset is decoded once (``prepare_dataset``) and every later job reads the arrays
(``load_prepared``); nothing decodes images per sample. The file contract is in
docs/architecture.md. The two ``.npz`` helpers here are also used for split files.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import OcbenchError
from ..files import atomic_path, one_line
from .registry import dataset_source

IMAGE_KEYS = ("x_train", "y_train", "x_test", "y_test")
TABULAR_KEYS = ("x", "y")


def save_npz(arrays: dict, path) -> None:
    """Write ``arrays`` to ``path`` so that a failure never leaves or overwrites a half file
    (``io.atomic_path``). Written through a handle because ``np.savez`` would append
    ``.npz`` to a temporary name."""
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        np.savez(out, **arrays)


#: what to do about a damaged file of the workflow's (every such file is remade by the rerun)
REMAKE = "delete it and run the same command again, which makes it anew"


def load_npz(path, required: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
    """Read every array of ``path`` into memory; raise ``OcbenchError`` naming the file if it is bad.

    All arrays are read now (``np.load`` is lazy), so a truncated file fails here, with
    the file's name, and not later inside a training job.
    """
    path = Path(path)
    if not path.is_file():
        raise OcbenchError(f"{what} file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise OcbenchError(f"{what} file {path} is unreadable ({one_line(exc)}); {REMAKE}") from None
    missing = [key for key in required if key not in arrays]
    if missing:
        raise OcbenchError(f"{what} file {path} lacks the arrays {', '.join(missing)}; "
                           f"{REMAKE}")
    return arrays



def check_prepared(arrays: dict, name: str) -> dict[str, np.ndarray]:
    """Hold the arrays a source produced to the prepared-file contract (dtypes, shapes, lengths)."""
    if all(key in arrays for key in IMAGE_KEYS):
        for part in ("train", "test"):
            x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
            if x.dtype != np.uint8 or x.ndim != 4:
                raise OcbenchError(f"dataset {name!r}: x_{part} must be uint8 N×C×H×W, got {x.dtype} {x.shape}")
            if y.shape != (len(x),):
                raise OcbenchError(f"dataset {name!r}: y_{part} has shape {y.shape}, expected ({len(x)},)")
        return {key: (arrays[key].astype(np.int64) if key.startswith("y") else arrays[key]) for key in IMAGE_KEYS}
    if all(key in arrays for key in TABULAR_KEYS):
        x, y = np.asarray(arrays["x"], dtype=np.float64), np.asarray(arrays["y"], dtype=np.int64)
        if x.ndim != 2 or y.shape != (len(x),) or not np.isin(y, (0, 1)).all():
            raise OcbenchError(f"dataset {name!r}: tabular arrays must be x N×D and y of N labels 0/1, "
                               f"got x {x.shape} and y {y.shape}")
        return {"x": x, "y": y}
    raise OcbenchError(f"dataset {name!r}: prepared arrays {sorted(arrays)} match neither "
                       f"{', '.join(IMAGE_KEYS)} (images) nor {', '.join(TABULAR_KEYS)} (tabular)")


def prepare_dataset(name: str, raw_dir, mirror, out_path) -> None:
    """Fetch ``name`` into ``raw_dir`` (from ``mirror`` if given), decode it, write ``out_path``."""
    source = dataset_source(name)
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    source.fetch(raw_dir, Path(mirror) if mirror else None)
    save_npz(check_prepared(source.prepare(raw_dir), name), out_path)


def load_prepared(path) -> dict[str, np.ndarray]:
    """The arrays of a prepared ``.npz`` (image or tabular contract, docs/architecture.md)."""
    arrays = load_npz(path, (), "prepared dataset")
    if not (all(k in arrays for k in IMAGE_KEYS) or all(k in arrays for k in TABULAR_KEYS)):
        raise OcbenchError(f"prepared dataset file {path} holds {sorted(arrays)}, expected "
                           f"{', '.join(IMAGE_KEYS)} or {', '.join(TABULAR_KEYS)}; delete it and prepare again")
    return arrays
