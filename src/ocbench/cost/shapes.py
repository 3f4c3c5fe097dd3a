"""The sizes of a split, known before any file exists: what the cost model multiplies.

From the dataset's declared sizes (``DatasetSource.class_sizes``, the image test sets'
``TEST_SET_SIZES``) and the setting, as the config check already reads them
(``config.training_set_size``): the training set exactly (the Deep SAD equations), the
test split from the test set's size. A test split of a setting whose anomalies come
from elsewhere (other datasets, attacked copies) counts the normal classes' share of
the test set by their share of the training set, which the image sets' balanced
classes make close.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

from ..errors import OcbenchError


@dataclass(frozen=True)
class SplitShape:
    """The sizes of one split: training set, test split and its validation share, labelled samples."""
    n_train: int
    n_test: int
    n_validation: int
    n_labelled: int
    dim: int  # values per sample

    @property
    def n_evaluation(self) -> int:
        """The test samples every method is scored on."""
        return self.n_test - self.n_validation


def _sources():
    from ..data.registry import DATASETS
    return DATASETS


def test_split_size(config: dict, dataset: str, setting: dict, group: list[int]) -> int:
    """Samples in the test split of one (dataset, setting, normal classes)."""
    from ..data.images import TEST_SET_SIZES
    from ..data.dataset_source import stratified_train_sizes
    from ..data.splits import TABULAR_TRAIN_SHARE

    source = _sources()[dataset]
    if source.kind != "image":
        return sum(source.class_sizes) - sum(stratified_train_sizes(source.class_sizes, TABULAR_TRAIN_SHARE))
    if dataset not in TEST_SET_SIZES:
        raise OcbenchError(f"dataset {dataset!r} declares no test-set size, so its cost cannot be estimated")
    n_test = TEST_SET_SIZES[dataset]
    if not setting.get("anomaly_datasets") and not setting.get("attack"):
        return n_test  # the whole test set: the normal classes and every other one
    sizes = source.class_sizes
    normal = round(n_test * sum(sizes[c] for c in group) / sum(sizes))
    if setting.get("attack"):
        return normal + (setting["attack"].get("attacked") or normal)
    per_dataset = setting.get("anomalies_per_dataset")
    return normal + sum(per_dataset or TEST_SET_SIZES[name] for name in setting["anomaly_datasets"])


@lru_cache(maxsize=None)
def _shape(dataset: str, group: tuple[int, ...], setting_json: str, n_test: int) -> SplitShape:
    """Cached by value: a paper preset asks for the same split shape thousands of times."""
    from ..config import training_set_size
    from ..data.splits import semisupervised_counts

    setting = json.loads(setting_json)
    n_train = training_set_size(dataset, list(group), setting)
    source = _sources()[dataset]
    if n_train is None:
        raise OcbenchError(f"dataset {dataset!r} declares no class sizes, so its cost cannot be estimated")
    fraction = setting.get("validation_fraction", 0) or 0
    # holdout_validation: floor(fraction x each label's count); the labels' split is not known here
    n_validation = int(fraction * n_test) if fraction else 0
    sizes = source.train_class_sizes()
    counts = semisupervised_counts(sum(sizes[c] for c in group), setting["ratio_known_normal"],
                                   setting["ratio_known_outlier"], setting["ratio_pollution"])
    n_labelled = counts["known_normal"] + (counts["known_outlier"] if setting["n_known_outlier_classes"] else 0)
    return SplitShape(n_train, n_test, n_validation, n_labelled, math.prod(source.sample_shape))


def split_shape(config: dict, dataset: str, grid_setting: str, normal: str) -> SplitShape:
    """The sizes of the split of a grid setting (``config.grid_settings``) and normal-class name."""
    from ..config import base_setting, parse_normal

    setting = dict(config["settings"][base_setting(config, grid_setting)],
                   validation_fraction=config["validation_fraction"])
    group = parse_normal(normal)
    n_test = test_split_size(config, dataset, setting, group)
    keys = ("ratio_known_normal", "ratio_known_outlier", "ratio_pollution", "known_outlier_class",
            "n_known_outlier_classes", "validation_fraction")
    return _shape(dataset, tuple(group), json.dumps({k: setting[k] for k in keys}, sort_keys=True), n_test)


def prepared_bytes(dataset: str) -> int:
    """The size of a dataset's prepared arrays (uint8 images, float64 tables), which a split job and
    each training job read, and each extremes picture reads again."""
    from ..data.images import TEST_SET_SIZES

    source = _sources()[dataset]
    if source.kind == "image":
        return (sum(source.class_sizes) + TEST_SET_SIZES[dataset]) * math.prod(source.sample_shape)
    return sum(source.class_sizes) * math.prod(source.sample_shape) * 8
