"""Read what the runs wrote (``metrics.json``, ``scores.csv``) and gather the runs into one table.

The workflow passes the batch manifests (``jobs.batch.run_batches``): each names its run
directories and the record of each run's latest attempt, ``metrics.json`` when it
succeeded or ``failed.json`` when it failed. A failed run is a row with status
``failed``, its one-line ``reason`` and no metrics, so the tables show a dash for it.

Every reader raises ``OcbenchError`` naming the file when it is missing or unreadable,
so a report job's log ends with the path to delete and make again.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ..config import normal_name, parse_normal, parse_setting_name
from ..errors import OcbenchError
from ..files import one_line
from ..paths import RUN_DIR, parse_run_dir

#: the keys of one run, in the order of the run-directory path
RUN_KEYS = ["dataset", "setting", "normal", "seed", "method", "device"]
#: what a run's setting name and split say of it: the config's setting behind a grid setting
#: ``{setting}.k{class}``, and the split's known outlier classes joined by ``-`` (empty if none),
#: so that a report can average over the known classes as the Deep SAD paper does
RUN_SPLIT = ["base_setting", "known"]
#: what runs.csv holds besides the keys
RUN_VALUES = ["auroc", "aupr", "precision", "recall", "accuracy", "threshold", "train_time_s", "test_time_s",
              "peak_memory_mb", "n_train", "n_test", "status"]
#: columns runs.csv holds when the runs wrote them: the CPU seconds of fit and scoring
#: (``train_cpu_s``, ``test_cpu_s``; the ``*_time_s`` are wall seconds, which on a shared
#: machine also count waits for a core), the shared autoencoder's training time
#: (``pretrain_time_s``, ``pretrain_cpu_s``, for the methods that read it), a failed run's ``reason``, and the
#: ``run_dir`` the row was read from (where the plots find ``scores.csv``), the accuracies on
#: the outliers and inliers at the threshold, and the datasets the anomalies came from in the
#: multi-class setting, joined by ``+`` (empty for the other settings), and how many models
#: trained in one stack with the run (``stack_size``; its ``train_time_s`` is its share), and the run's
#: ``protocol``: ``inductive`` (scored on test images) or ``transductive`` (on its training images)
OPTIONAL_VALUES = ["train_cpu_s", "test_cpu_s", "pretrain_time_s", "pretrain_cpu_s", "reason", "run_dir",
                   "outlier_accuracy", "inlier_accuracy", "anomaly_datasets", "stack_size", "protocol"]
RUN_COLUMNS = RUN_KEYS + RUN_SPLIT + RUN_VALUES + OPTIONAL_VALUES
SCORE_COLUMNS = ["index", "label", "score"]

# --------------------------------------------------------------------------- one run

def read_metrics(path) -> dict:
    """The ``metrics.json`` of one run as a dict."""
    path = Path(path)
    if not path.is_file():
        raise OcbenchError(f"metrics file {path} does not exist; run the job that writes it")
    try:
        metrics = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OcbenchError(f"metrics file {path} is not readable JSON ({one_line(err)}); "
                           "delete its run directory and run it again") from None
    failed = isinstance(metrics, dict) and metrics.get("status") == "failed"
    if not isinstance(metrics, dict) or ("auroc" not in metrics and not failed):
        raise OcbenchError(f"metrics file {path} holds no 'auroc'; delete its run directory and run it again")
    return metrics


def manifest_records(manifest_paths) -> list[Path]:
    """The record of each run the batch manifests list: its ``metrics.json``, or ``failed.json``."""
    records = []
    for path in map(Path, manifest_paths):
        try:
            manifest = json.loads(path.read_text())
            records += [Path(run["record"]) for run in manifest["runs"]]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise OcbenchError(f"batch manifest {path} is not readable ({one_line(err)}); "
                               "run its batch job again") from None
    return records


def run_keys(metrics: dict, path) -> dict:
    """The keys of a run: from its ``metrics.json``, else from the run directory's path.

    ``metrics.json`` holds the keys when the run was made by the workflow; a run made by
    hand (``ocbench run`` without ``--dataset``...) may lack them, and its path still
    names them.
    """
    from_path = parse_run_dir(path) or {}
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
                           f".../{RUN_DIR}/metrics.json")
    keys["seed"] = int(keys["seed"])
    return keys


def split_keys(setting: str, metrics: dict) -> dict:
    """``base_setting`` and ``known`` of a run, from its setting name and the known outlier
    classes its split drew (``metrics.json``'s ``known_outlier_classes``; a record without
    them, such as a failed run's, falls back on the ``.k<class>`` of the setting name)."""
    base, known_class = parse_setting_name(setting)
    known = metrics.get("known_outlier_classes")
    if known is None:
        known = [] if known_class is None else [known_class]
    return {"base_setting": base, "known": normal_name(known) if known else ""}


def run_row(path) -> dict:
    """One row of runs.csv: the run's keys and its metrics (none but the reason for a failed run)."""
    metrics = read_metrics(path)
    row = run_keys(metrics, path)
    row.update(split_keys(row["setting"], metrics))
    for column in RUN_VALUES + OPTIONAL_VALUES:
        value = metrics.get(column, math.nan)
        row[column] = math.nan if value is None else value
    if row["status"] is None or (isinstance(row["status"], float) and math.isnan(row["status"])):
        row["status"] = "unknown"
    if not isinstance(row["reason"], str):
        row["reason"] = ""
    row["run_dir"] = Path(path).parent.as_posix()
    row["anomaly_datasets"] = "+".join(metrics.get("anomaly_datasets") or [])
    return row


def read_csv_file(path, what: str, columns: list[str], make: str, remake: str, **options) -> pd.DataFrame:
    """A CSV file that must hold ``columns`` (``options`` go to ``pandas.read_csv``). Where it is
    missing, unreadable or lacks a column: ``OcbenchError`` naming ``what`` and the path, then
    ``make`` (how to write it) or ``remake`` (how to write it again)."""
    path = Path(path)
    if not path.is_file():
        raise OcbenchError(f"{what} {path} does not exist; {make}")
    try:
        frame = pd.read_csv(path, **options)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise OcbenchError(f"{what} {path} is not a readable CSV ({one_line(err)}); {remake}") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise OcbenchError(f"{what} {path} lacks the columns {', '.join(missing)}; {remake}")
    return frame


def read_scores(path) -> pd.DataFrame:
    """The ``scores.csv`` of one run: ``index`` (into the prepared test array), ``label`` (0/1), ``score``."""
    scores = read_csv_file(path, "scores file", SCORE_COLUMNS, "run the job that writes it",
                           "delete its run directory and run it again")
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
                                        "device": str, "status": str, "reason": str, "run_dir": str,
                                        "base_setting": str, "known": str,
                                        "anomaly_datasets": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise OcbenchError(f"runs table {path} is not a readable CSV ({one_line(err)})") from None
    missing = [column for column in RUN_KEYS + RUN_VALUES if column not in runs.columns]
    if missing:
        raise OcbenchError(f"runs table {path} lacks the columns {', '.join(missing)}; "
                           "make it again with `ocbench collect`")
    for position, column in enumerate(RUN_SPLIT, start=len(RUN_KEYS)):
        if column not in runs.columns:  # a runs.csv from before these columns: the setting names say it
            runs.insert(position, column, [split_keys(name, {})[column] for name in runs["setting"]])
    runs["known"] = runs["known"].fillna("").astype(str)
    for column in OPTIONAL_VALUES:
        if column not in runs.columns:
            runs[column] = "" if column in ("reason", "run_dir", "anomaly_datasets") else math.nan
    runs["reason"] = runs["reason"].fillna("").astype(str)
    runs["anomaly_datasets"] = runs["anomaly_datasets"].fillna("").astype(str)
    if runs.empty:
        raise OcbenchError(f"runs table {path} holds no runs")
    return runs


def method_labels(runs: pd.DataFrame) -> pd.Series:
    """The name a method goes by in tables and figures: ``method``, or ``method (device)`` when
    the same method ran on more than one device (each device is then its own column)."""
    devices_per_method = runs.groupby("method")["device"].nunique()
    several = runs["method"].map(devices_per_method) > 1
    return runs["method"].where(~several, runs["method"] + " (" + runs["device"] + ")")

