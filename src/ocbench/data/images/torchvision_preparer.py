"""``prepare`` through torchvision's dataset classes: the fetched raw files read as train and test
arrays in the prepared layout (N×C×H×W uint8 images, int64 labels)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import OcbenchError
from ...files import one_line


def _nchw(images: np.ndarray, channels_last: bool) -> np.ndarray:
    # MNIST-like classes hold N×H×W, CIFAR N×H×W×C, SVHN already N×C×H×W; the contract is N×C×H×W.
    if images.ndim == 3:
        return images[:, None]
    return images.transpose(0, 3, 1, 2) if channels_last else images


def torchvision_preparer(name: str, class_name: str, part_keyword: str = "train", channels_last: bool = True,
                         adjust=None, **fixed):
    """``prepare`` through torchvision's class: train and test arrays, N×C×H×W uint8 and int64 labels.

    ``part_keyword``: how the class picks train or test (``train=True``, or SVHN's
    ``split="train"``; SVHN also holds its images channels first and digit 0 as class 0);
    ``fixed``: other constructor arguments (EMNIST's ``split``);
    ``adjust(images, labels)``: what the source changes (orientation, label offset).
    """
    def prepare(raw_dir: Path) -> dict[str, np.ndarray]:
        import torchvision.datasets  # here: the registry is read without torchvision

        dataset_class = getattr(torchvision.datasets, class_name)
        arrays = {}
        for part, train in (("train", True), ("test", False)):
            which = {part_keyword: train} if part_keyword == "train" else {part_keyword: part}
            try:
                dataset = dataset_class(str(raw_dir), download=False, **which, **fixed)
            except RuntimeError as exc:
                raise OcbenchError(f"dataset {name!r}: raw files not found in {raw_dir} ({one_line(exc)}); "
                                   "fetch them first (`ocbench fetch`)") from None
            images = dataset.data.numpy() if hasattr(dataset.data, "numpy") else np.asarray(dataset.data)
            labels = getattr(dataset, "targets", None)
            labels = np.asarray(dataset.labels if labels is None else labels, dtype=np.int64)
            images = _nchw(images, channels_last)
            if adjust is not None:
                images, labels = adjust(images, labels)
            arrays[f"x_{part}"] = np.ascontiguousarray(images, dtype=np.uint8)
            arrays[f"y_{part}"] = labels
        return arrays

    return prepare
