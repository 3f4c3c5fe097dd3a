"""The AUROC numbers published for the methods ocbench runs, shipped as package data.

The tables live in ``ocbench/published/*.csv`` (one file per paper or repository, its
sources described in ``SOURCES.md``); every row names its source. The files are kept
as gathered; ``load_published`` joins them into one table.
"""
from __future__ import annotations

import io
from importlib.resources import files

import pandas as pd

PUBLISHED_COLUMNS = ["dataset", "normal", "method", "auc_mean", "auc_std", "source", "table"]
#: keys that only some tables have: the Deep SAD labelled-ratio grid and the multi-radius groups
EXTRA_KEYS = ["ratio_known_outlier", "n_normal_groups"]
#: tables of one-class results per normal class (comparable run by run)
ONE_CLASS_TABLES = ("deep_svdd_icml2018_oneclass", "deep_svdd_pytorch_mnist")
_SAME = "same"


def published_files():
    """The CSV files of published numbers, by name."""
    folder = files("ocbench").joinpath("published")
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".csv")), key=lambda e: e.name)


def _resolve_same(sources: pd.Series) -> pd.Series:
    """Spell out ``same`` (and ``same (note)``): the source of the last row that named one, plus the note."""
    resolved, named = [], ""
    for source in sources.fillna(""):
        if source.startswith(_SAME):
            resolved.append(named + source[len(_SAME):])
        else:
            named = source
            resolved.append(source)
    return pd.Series(resolved, index=sources.index)


def read_published_table(name: str, text: str) -> pd.DataFrame:
    """One published CSV as rows of ``PUBLISHED_COLUMNS`` plus whichever ``EXTRA_KEYS`` it has."""
    table = pd.read_csv(io.StringIO(text), dtype={"dataset": str, "normal_class": str, "method": str,
                                                  "source": str})
    table = table.rename(columns={"normal_class": "normal"})
    if "normal" not in table.columns:
        table["normal"] = ""
    if "auc_std" not in table.columns:
        table["auc_std"] = float("nan")
    table["normal"] = table["normal"].fillna("")
    table["source"] = _resolve_same(table["source"])
    table["table"] = name
    return table


def load_published() -> pd.DataFrame:
    """Every published number in one table: ``PUBLISHED_COLUMNS`` then ``EXTRA_KEYS``
    (NaN where a table has no such key). ``normal`` is the class id as text, empty when
    the source gives a result over several classes or another protocol. AUROC in percent.
    """
    tables = [read_published_table(entry.name.removesuffix(".csv"), entry.read_text(encoding="utf-8"))
              for entry in published_files()]
    published = pd.concat(tables, ignore_index=True)
    for key in EXTRA_KEYS:
        if key not in published.columns:
            published[key] = float("nan")
    return published[PUBLISHED_COLUMNS + EXTRA_KEYS]


def one_class_results(published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published one-class results per normal class (``ONE_CLASS_TABLES``)."""
    published = load_published() if published is None else published
    return published[published["table"].isin(ONE_CLASS_TABLES) & (published["normal"] != "")]
