"""The AUROC numbers published for the methods ocbench runs, shipped as package data.

The tables live in ``ocbench/published/*.csv`` (one file per paper or repository, its
sources described in ``SOURCES.md``); every row names its source. ``load_published``
joins them into one table and checks every name against ocbench's registries
(``check_published``): a dataset, method, class or key column that ocbench does not
know stops the report with one line, before a number is compared.

Columns of a table: ``dataset``, ``method`` (registry names), ``auc_mean`` and
``auc_std`` (AUROC in percent; a blank std: the source gives none), ``n_seeds`` (how
many seeds the mean and std are over, blank when the source does not say) or, for a
table whose std is a spread over (normal, known anomaly class) cells (the Deep SAD
paper's), ``n_cells`` (how many such cells, from the paper's protocol), ``source``
(``same`` repeats the row above, ``same (note)`` adds a note), and the keys of its
cells: ``normal_class``, ``ratio_known_outlier`` (γ_l of the Deep SAD paper) or
``n_normal_classes`` (the size of the normal group).

A table is copied as its source gives it: the names a source uses for what ocbench names
otherwise are translated on reading (``ALIASES``, ``CLASS_OF_DATASET``), and a table
without ``n_seeds`` (nor ``n_cells``) takes the count its source names ("10 seeds").
"""
from __future__ import annotations

import io
import math
from importlib.resources import files

import pandas as pd

from ..data.registry import DATASETS
from ..detectors import METHODS
from ..errors import OcbenchError

PUBLISHED_COLUMNS = ["dataset", "normal", "method", "auc_mean", "auc_std", "n_seeds", "n_cells", "source", "table"]
#: keys that only some tables have: the Deep SAD labelled-ratio grid and the size of the normal group
EXTRA_KEYS = ["ratio_known_outlier", "n_normal_classes"]
#: columns a published CSV may have (``normal_class`` becomes ``normal``)
FILE_COLUMNS = ["dataset", "normal_class", "method", "auc_mean", "auc_std", "n_seeds", "n_cells", "source",
                *EXTRA_KEYS]
REQUIRED_COLUMNS = ["dataset", "method", "auc_mean", "source"]
#: names a published table may use although ocbench does not run them, and why; a name
#: that joins the registry leaves this list by itself
PUBLISHED_ONLY = {
    "dataset": {},
    "method": {},
}
_SAME = "same"
#: names a source uses, by table ("*": every table), and ocbench's name for the same thing (SOURCES.md)
ALIASES = {
    "*": {"method": {"dcae": "cae"}, "dataset": {"gtsrb_stop_adversarial": "gtsrb"}},
    # what the OC-NN authors' code and notebooks call OC-NN is not the paper's objective
    "ocnn_authors_notebooks": {"method": {"ocnn": "ocnn_authors_code"}},
}
#: a source's dataset name that stands for one class of an ocbench dataset: its class id
CLASS_OF_DATASET = {"gtsrb_stop_adversarial": "14"}  # GTSRB's stop signs, against adversarial ones
_SEEDS_IN_SOURCE = r"\((\d+) seeds"


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
    unknown = [column for column in table.columns if column not in FILE_COLUMNS]
    if unknown:
        raise OcbenchError(f"published table {name}: unknown column {unknown[0]!r}; allowed: {', '.join(FILE_COLUMNS)}")
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise OcbenchError(f"published table {name} lacks the column {missing[0]!r}; "
                           f"it needs {', '.join(REQUIRED_COLUMNS)}")
    table = table.rename(columns={"normal_class": "normal"})
    if "normal" not in table.columns:
        table["normal"] = ""
    for column in ("auc_std", "n_seeds", "n_cells"):
        if column not in table.columns:
            table[column] = float("nan")
    table["normal"] = table["normal"].fillna("")
    table["source"] = _resolve_same(table["source"])
    table["table"] = name
    return _translate(name, table)


def _translate(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` in ocbench's names (``ALIASES``, ``CLASS_OF_DATASET``), with the seed count its
    source names where ``n_seeds`` is blank."""
    class_of = table["dataset"].map(CLASS_OF_DATASET)
    table["normal"] = table["normal"].where(table["normal"] != "", class_of.fillna(""))
    for kind in ("dataset", "method"):
        for scope in ("*", name):
            table[kind] = table[kind].replace(ALIASES.get(scope, {}).get(kind, {}))
    named = pd.to_numeric(table["source"].str.extract(_SEEDS_IN_SOURCE)[0], errors="coerce")
    # the source's count is over seeds, unless the table counts its std over cells (n_cells)
    named = named.where(pd.to_numeric(table["n_cells"], errors="coerce").isna())
    table["n_seeds"] = pd.to_numeric(table["n_seeds"], errors="coerce").fillna(named)
    return table


def _registry_names(kind: str) -> set[str]:
    return set(DATASETS) if kind == "dataset" else set(METHODS)


def check_published(published: pd.DataFrame) -> pd.DataFrame:
    """Raise, in one line naming the table, row and value, unless every name is one ocbench knows.

    Datasets and methods must be in the registries (or ``PUBLISHED_ONLY``); a normal
    class must be a class of its dataset; γ_l must lie in [0, 1); a group size must
    leave an anomaly class; AUROCs must lie in [0, 100].
    """
    for kind in ("dataset", "method"):
        known = _registry_names(kind)
        allowed = known | set(PUBLISHED_ONLY[kind])
        for row in published.itertuples():
            value = getattr(row, kind)
            if value not in allowed:
                raise OcbenchError(f"published table {row.table}: unknown {kind} {value!r}; allowed: "
                                   f"{', '.join(sorted(known))} (and, though ocbench does not run them: "
                                   f"{', '.join(sorted(PUBLISHED_ONLY[kind]))})")
    for row in published.itertuples():
        where = f"published table {row.table} ({row.dataset}, {row.method})"
        n_classes = len(DATASETS[row.dataset].classes) if row.dataset in DATASETS else None
        if row.normal != "" and n_classes is not None:
            if not row.normal.isdigit() or int(row.normal) >= n_classes:
                raise OcbenchError(f"{where}: normal class {row.normal!r} is not a class of dataset "
                                   f"{row.dataset!r}; allowed: 0-{n_classes - 1}")
        ratio = getattr(row, "ratio_known_outlier", math.nan)
        if not (math.isnan(ratio) or 0 <= ratio < 1):
            raise OcbenchError(f"{where}: ratio_known_outlier {ratio} must lie in [0, 1)")
        size = getattr(row, "n_normal_classes", math.nan)
        if not math.isnan(size) and n_classes is not None and not (size == int(size) and 1 <= size < n_classes):
            raise OcbenchError(f"{where}: n_normal_classes {size:g} must be a whole number in 1-{n_classes - 1}")
        for column, value in (("auc_mean", row.auc_mean), ("auc_std", row.auc_std)):
            blank = column == "auc_std" and math.isnan(value)
            if not blank and not 0 <= value <= 100:
                raise OcbenchError(f"{where}: {column} {value} is not an AUROC in percent (0-100)")
        for column, value in (("n_seeds", row.n_seeds), ("n_cells", row.n_cells)):
            if not math.isnan(value) and not (value == int(value) and value >= 1):
                raise OcbenchError(f"{where}: {column} {value:g} must be a whole number >= 1 (or blank: not given)")
        if not (math.isnan(row.n_seeds) or math.isnan(row.n_cells)):
            raise OcbenchError(f"{where}: both n_seeds and n_cells are given; the std is over one or the other")
    return published


def load_published() -> pd.DataFrame:
    """Every published number in one table, checked (``check_published``): ``PUBLISHED_COLUMNS``
    then ``EXTRA_KEYS`` (NaN where a table has no such key). ``normal`` is the class id as
    text, empty when the source gives a result over several classes or another protocol.
    AUROC in percent.
    """
    tables = [read_published_table(entry.name.removesuffix(".csv"), entry.read_text(encoding="utf-8"))
              for entry in published_files()]
    published = pd.concat(tables, ignore_index=True)
    for key in EXTRA_KEYS:
        if key not in published.columns:
            published[key] = float("nan")
    return check_published(published[PUBLISHED_COLUMNS + EXTRA_KEYS])
