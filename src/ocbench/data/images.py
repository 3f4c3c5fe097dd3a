"""Image datasets (to be filled)."""
from .source import DatasetSource

IMAGE_SOURCES: dict[str, DatasetSource] = {}
