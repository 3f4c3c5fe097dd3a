"""Which rank tables and diagrams a workflow config makes, and their file names.

Plain Python only: the workflow imports this while it parses the Snakefile (the ranks
themselves, ``report.ranks``, need pandas and scipy).
"""
from __future__ import annotations

#: the scope of the ranks over every dataset of a setting (a dataset's name otherwise)
ALL_DATASETS = "all"


def rank_groups(pairs) -> list[tuple[str, str]]:
    """The (scope, setting) of each group ranked: every (dataset, setting) of ``pairs`` in their
    order, then (``ALL_DATASETS``, setting) for each setting that two datasets or more share."""
    pairs = list(dict.fromkeys((str(dataset), str(setting)) for dataset, setting in pairs))
    datasets_of: dict[str, list[str]] = {}
    for dataset, setting in pairs:
        datasets_of.setdefault(setting, []).append(dataset)
    return pairs + [(ALL_DATASETS, setting) for setting, datasets in datasets_of.items() if len(datasets) > 1]


def config_rank_groups(config: dict) -> list[tuple[str, str]]:
    """``rank_groups`` of a validated workflow config: the files the workflow expects."""
    return rank_groups((dataset, setting) for dataset, entry in config["datasets"].items()
                       for setting in entry["settings"])


def rank_table_name(scope: str, setting: str) -> str:
    return f"ranks_{scope}_{setting}.tex"


def rank_figure_name(scope: str, setting: str) -> str:
    return f"{scope}/{setting}.png"
