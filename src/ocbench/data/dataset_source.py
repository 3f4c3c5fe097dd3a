"""What ocbench needs to know about one dataset."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

#: the share of a tabular dataset's samples drawn as training candidates (the ODDS 60/40
#: split, ``splits.make_split``); here, so that a source can tell its training sizes
TABULAR_TRAIN_SHARE = 0.6


@dataclass(frozen=True)
class DatasetSource:
    """One dataset: how to fetch its raw files and turn them into the prepared arrays.

    ``fetch(raw_dir, mirror)`` puts verified raw files in ``raw_dir`` (from the internet,
    or from the ``mirror`` folder when one is given) and raises ``OcbenchError`` naming
    the dataset, what was tried and how to give a mirror when it cannot.
    ``prepare(raw_dir)`` returns the arrays of the prepared ``.npz`` (docs/architecture.md).

    ``sample_shape`` and ``class_sizes`` describe the prepared arrays without loading
    them, so that the config checks can refuse a net, a batch size or a ratio that does
    not fit before any job: the shape of one sample, and the number of samples of each
    class (of the official training set for an image dataset, of the whole set for a
    tabular one, whose train/test split is drawn later). None where not declared.
    ``check_mirror(folder)``, where declared, raises ``OcbenchError`` when a mirror folder
    lacks a file the fetch will need (a cheap look at names, run with the config checks).
    """

    name: str
    kind: str  # "image" or "tabular"
    classes: tuple[str, ...]  # class names; the position is the class id
    fetch: Callable[[Path, Path | None], None]
    prepare: Callable[[Path], dict[str, np.ndarray]]
    default_net: str
    default_preprocessing: str
    sample_shape: tuple[int, ...] | None = None
    class_sizes: tuple[int, ...] | None = None
    check_mirror: Callable[[Path], None] | None = None

    def train_class_sizes(self) -> tuple[int, ...] | None:
        """Training candidates per class: ``class_sizes`` of an image set; a tabular set's
        share of its stratified 60/40 split (scikit-learn's allocation, ``splits._candidates``)."""
        if self.class_sizes is None or self.kind == "image":
            return self.class_sizes
        return stratified_train_sizes(self.class_sizes, TABULAR_TRAIN_SHARE)


def stratified_train_sizes(class_sizes, train_share: float) -> tuple[int, ...]:
    """Per-class training counts of scikit-learn's stratified ``train_test_split``.

    ``floor(train_share * n)`` samples in all, each class its floored proportional share,
    the samples left over going to the classes of largest remainder (scikit-learn's
    ``_approximate_mode``; its random tie-break between equal remainders is not modelled).
    """
    total = sum(class_sizes)
    n_train = int(np.floor(train_share * total))
    exact = [n_train * size / total for size in class_sizes]
    counts = [int(np.floor(value)) for value in exact]
    left = n_train - sum(counts)
    for index in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[:left]:
        counts[index] += 1
    return tuple(counts)
