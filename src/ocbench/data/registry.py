"""The dataset registry: every name a config may use."""
from dataclasses import replace

from ..errors import check_choice
from .images import IMAGE_SOURCES
from .dataset_source import DatasetSource
from .tabular import TABULAR_SOURCES

# (sample shape, samples per class) of each prepared dataset, for the config checks
# (DatasetSource.sample_shape, .class_sizes). Images: the official training set, per
# class; tabular: (normal, outlier) rows of the whole set (ODDS's published sizes).
_SIZES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "mnist5k": ((1, 28, 28), (400,) * 10),
    "mnist": ((1, 28, 28), (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)),
    "fmnist": ((1, 28, 28), (6000,) * 10),
    "cifar10": ((3, 32, 32), (5000,) * 10),
    "kmnist": ((1, 28, 28), (6000,) * 10),
    "emnist_letters": ((1, 28, 28), (4800,) * 26),
    "cifar100": ((3, 32, 32), (500,) * 100),
    "svhn": ((3, 32, 32), (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659)),
    "gtsrb": ((3, 32, 32), (210, 2220, 2250, 1410, 1980, 1860, 420, 1440, 1410, 1470, 2010, 1320, 2100, 2160, 780,
                            630, 420, 1110, 1200, 210, 360, 330, 390, 510, 270, 1500, 600, 240, 540, 270, 450, 780,
                            240, 689, 420, 1200, 390, 210, 2070, 300, 360, 240, 240)),
    "arrhythmia": ((274,), (386, 66)),
    "cardio": ((21,), (1655, 176)),
    "satellite": ((36,), (4399, 2036)),
    "satimage-2": ((36,), (5732, 71)),
    "shuttle": ((9,), (45586, 3511)),
    "thyroid": ((6,), (3679, 93)),
    "wbc": ((30,), (357, 21)),
    "wine": ((13,), (119, 10)),
}


def _with_sizes(source: DatasetSource) -> DatasetSource:
    if source.sample_shape is not None or source.name not in _SIZES:
        return source
    shape, sizes = _SIZES[source.name]
    return replace(source, sample_shape=shape, class_sizes=sizes)


DATASETS: dict[str, DatasetSource] = {name: _with_sizes(source)
                                      for name, source in {**IMAGE_SOURCES, **TABULAR_SOURCES}.items()}


def dataset_source(name: str) -> DatasetSource:
    check_choice("dataset", name, DATASETS)
    return DATASETS[name]
