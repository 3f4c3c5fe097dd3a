"""The dataset registry: every name a config may use."""
from ..errors import check_choice
from .images import IMAGE_SOURCES
from .source import DatasetSource
from .tabular import TABULAR_SOURCES

DATASETS: dict[str, DatasetSource] = {**IMAGE_SOURCES, **TABULAR_SOURCES}


def dataset_source(name: str) -> DatasetSource:
    check_choice("dataset", name, DATASETS)
    return DATASETS[name]
