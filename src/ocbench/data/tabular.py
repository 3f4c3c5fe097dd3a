"""Tabular datasets: ODDS .mat files and the sets derived from scikit-learn (to be filled)."""
from .source import DatasetSource

TABULAR_SOURCES: dict[str, DatasetSource] = {}
