"""Read what the runs wrote (``metrics.json``, ``scores.csv``) and gather the runs into one table.

Every reader raises ``OcbenchError`` naming the file when it is missing or unreadable,
so a report job's log ends with the path to delete and make again.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from ..config import normal_name, parse_normal
from ..errors import OcbenchError

#: the keys of one run, in the order of the run-directory path
RUN_KEYS = ["dataset", "setting", "normal", "seed", "method", "device"]
#: what runs.csv holds besides the keys
RUN_VALUES = ["auroc", "aupr", "precision", "recall", "accuracy", "threshold", "train_time_s", "test_time_s",
              "peak_memory_mb", "n_train", "n_test", "status"]
RUN_COLUMNS = RUN_KEYS + RUN_VALUES
SCORE_COLUMNS = ["index", "label", "score"]

# .../runs/{dataset}/{setting}/{normal}/seed{seed}/{method}/{device}/<file>
_RUN_PATH = re.compile(r"(?:^|/)runs/(?P<dataset>[^/]+)/(?P<setting>[^/]+)/(?P<normal>\d+(?:-\d+)*)/"
                       r"seed(?P<seed>\d+)/(?P<method>[^/]+)/(?P<device>[^/]+)/[^/]+$")


# --------------------------------------------------------------------------- one run

def read_metrics(path) -> dict:
    """The ``metrics.json`` of one run as a dict."""
    path = Path(path)
    if not path.is_file():
        raise OcbenchError(f"metrics file {path} does not exist; run the job that writes it")
    try:
        metrics = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OcbenchError(f"metrics file {path} is not readable JSON ({_one_line(err)}); "
                           "delete its run directory and run it again") from None
    if not isinstance(metrics, dict) or "auroc" not in metrics:
        raise OcbenchError(f"metrics file {path} holds no 'auroc'; delete its run directory and run it again")
    return metrics


def keys_from_path(path) -> dict | None:
    """The run keys spelled by a run-directory path, or None when the path has another shape."""
    match = _RUN_PATH.search(Path(path).as_posix())
    if match is None:
        return None
    keys = match.groupdict()
    keys["seed"] = int(keys["seed"])
    return keys


def run_keys(metrics: dict, path) -> dict:
    """The keys of a run: from its ``metrics.json``, else from the run directory's path.

    ``metrics.json`` holds the keys when the run was made by the workflow; a run made by
    hand (``ocbench run`` without ``--dataset``...) may lack them, and its path still
    names them.
    """
    from_path = keys_from_path(path) or {}
    keys = {
        "dataset": metrics.get("dataset"),
        "setting": metrics.get("setting"),
        "normal": normal_name(metrics["normal_classes"]) if metrics.get("normal_classes") is not None else None,
        "seed": metrics.get("seed"),
        "method": metrics.get("method"),
        "device": metrics.get("device"),
    }
    for key, value in keys.items():
        if value is None:
            keys[key] = from_path.get(key)
    missing = [key for key, value in keys.items() if value is None]
    if missing:
        raise OcbenchError(f"metrics file {path} lacks the run keys {', '.join(missing)} and its path is not "
                           ".../runs/{dataset}/{setting}/{normal}/seed{seed}/{method}/{device}/metrics.json")
    keys["seed"] = int(keys["seed"])
    return keys


def run_row(path) -> dict:
    """One row of runs.csv: the run's keys and its metrics."""
    metrics = read_metrics(path)
    row = run_keys(metrics, path)
    for column in RUN_VALUES:
        row[column] = metrics.get(column, math.nan)
    if row["status"] is None or (isinstance(row["status"], float) and math.isnan(row["status"])):
        row["status"] = "unknown"
    return row


def read_scores(path) -> pd.DataFrame:
    """The ``scores.csv`` of one run: ``index`` (into the prepared test array), ``label`` (0/1), ``score``."""
    path = Path(path)
    if not path.is_file():
        raise OcbenchError(f"scores file {path} does not exist; run the job that writes it")
    try:
        scores = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise OcbenchError(f"scores file {path} is not a readable CSV ({_one_line(err)}); "
                           "delete its run directory and run it again") from None
    missing = [column for column in SCORE_COLUMNS if column not in scores.columns]
    if missing:
        raise OcbenchError(f"scores file {path} lacks the columns {', '.join(missing)}; "
                           f"expected {','.join(SCORE_COLUMNS)}")
    if not scores["label"].isin([0, 1]).all():
        raise OcbenchError(f"scores file {path}: labels must be 0 (normal) or 1 (anomaly)")
    return scores[SCORE_COLUMNS]


# --------------------------------------------------------------------------- many runs

def collect_runs(metric_paths) -> pd.DataFrame:
    """One row per run (columns ``RUN_COLUMNS``), sorted by the run keys.

    AUROC and AUPR stay in [0, 1] as the runs stored them. Normal classes sort as
    numbers (``2`` before ``10``), and methods keep the order in which they first
    appear in ``metric_paths``: the workflow lists the runs in the config's order, so
    the tables and figures show the methods in the order the config names them.
    """
    paths = [Path(p) for p in metric_paths]
    if not paths:
        raise OcbenchError("no metrics.json files given; pass at least one path (or @listing)")
    rows = [run_row(path) for path in paths]
    seen: dict[tuple, Path] = {}
    for row, path in zip(rows, paths):
        key = tuple(row[k] for k in RUN_KEYS)
        if key in seen:
            raise OcbenchError(f"metrics files {seen[key]} and {path} are both the run {'/'.join(map(str, key))}; "
                               "give each run once")
        seen[key] = path
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    return sort_runs(runs)


def sort_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Sort by the run keys, normal classes as numbers and methods in their order of first appearance."""
    method_rank = {method: rank for rank, method in enumerate(pd.unique(runs["method"]))}
    normal_rank = {name: rank for rank, name in enumerate(sorted(set(runs["normal"]), key=parse_normal))}

    def sort_key(column: pd.Series) -> pd.Series:
        if column.name == "normal":
            return column.map(normal_rank)
        if column.name == "method":
            return column.map(method_rank)
        return column

    return runs.sort_values(RUN_KEYS, key=sort_key, kind="stable").reset_index(drop=True)


def read_runs(path) -> pd.DataFrame:
    """A runs.csv written by ``ocbench collect``, with ``normal`` kept as text (``0-1``, not a number)."""
    path = Path(path)
    if not path.is_file():
        raise OcbenchError(f"runs table {path} does not exist; make it with `ocbench collect`")
    try:
        runs = pd.read_csv(path, dtype={"normal": str, "dataset": str, "setting": str, "method": str,
                                        "device": str, "status": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise OcbenchError(f"runs table {path} is not a readable CSV ({_one_line(err)})") from None
    missing = [column for column in RUN_COLUMNS if column not in runs.columns]
    if missing:
        raise OcbenchError(f"runs table {path} lacks the columns {', '.join(missing)}; "
                           "make it again with `ocbench collect`")
    if runs.empty:
        raise OcbenchError(f"runs table {path} holds no runs")
    return runs


def method_labels(runs: pd.DataFrame) -> pd.Series:
    """The name a method goes by in tables and figures: ``method``, or ``method (device)`` when
    the same method ran on more than one device (each device is then its own column)."""
    devices_per_method = runs.groupby("method")["device"].nunique()
    several = runs["method"].map(devices_per_method) > 1
    return runs["method"].where(~several, runs["method"] + " (" + runs["device"] + ")")


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__
