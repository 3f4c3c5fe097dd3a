"""What ocbench needs to know about one dataset."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class DatasetSource:
    """One dataset: how to fetch its raw files and turn them into the prepared arrays.

    ``fetch(raw_dir, mirror)`` puts verified raw files in ``raw_dir`` (from the internet,
    or from the ``mirror`` folder when one is given) and raises ``OcbenchError`` naming
    the dataset, what was tried and how to give a mirror when it cannot.
    ``prepare(raw_dir)`` returns the arrays of the prepared ``.npz`` (docs/architecture.md).
    """

    name: str
    kind: str  # "image" or "tabular"
    classes: tuple[str, ...]  # class names; the position is the class id
    fetch: Callable[[Path, Path | None], None]
    prepare: Callable[[Path], dict[str, np.ndarray]]
    default_net: str
    default_preprocessing: str
