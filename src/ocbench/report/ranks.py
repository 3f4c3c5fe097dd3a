"""The methods ranked over cells, per (dataset, setting) and over all datasets of a setting, with the
Friedman test and a post-hoc test (``significance.compare_methods``): ``ranks.csv``, the pairwise
p-values, a booktabs table and a critical-difference diagram per group, and the summary's section.

A *cell* is one normal class of a dataset, or one (normal, known anomaly) class pair where the
setting draws one split per known class; its AUROC is the mean over the seeds whose run has one.
Failed runs are left out and counted. The methods are compared on the cells where every one of
them has a result; over all datasets, a method that did not run on every dataset of the setting
is left out by name (otherwise it would drop every cell of the datasets it did not run on).
``ranks.csv`` is the record: the tables and the summary are written from it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .collect import method_labels, read_csv_file
from .rank_layout import ALL_DATASETS, rank_figure_name, rank_groups, rank_table_name
from .significance import POSTHOC_NAMES, RankTest, check_statistics, compare_methods, wilcoxon_holm_min_cells
from .tables import fit_to_page, latex_escape, markdown_table, short_labels

#: what identifies a cell within a setting
CELL_KEYS = ["dataset", "normal", "known"]
#: ranks.csv: one row per (scope, setting, method), best first; the columns from ``n_cells`` on
#: describe the group and repeat on each of its rows
RANK_COLUMNS = ["scope", "setting", "method", "label", "average_rank", "group", "n_failed_runs", "n_cells",
                "n_cells_total", "methods_left_out", "tested", "reason", "friedman_chi2", "friedman_p",
                "iman_davenport_f", "iman_davenport_p", "rejected", "posthoc", "significance_level",
                "critical_difference"]
PAIRWISE_COLUMNS = ["scope", "setting", "label_a", "label_b", "rank_difference", "p_value", "significant"]
RANKS_CSV = "ranks.csv"
PAIRWISE_CSV = "ranks_pairwise.csv"


def _scope_title(scope: str, setting: str) -> str:
    return f"all datasets / {setting}" if scope == ALL_DATASETS else f"{scope} / {setting}"


# --------------------------------------------------------------------------- cells and groups

def cell_aurocs(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, setting, normal, known, method label): ``auroc`` the mean over the runs
    that have one (NaN where none has), ``n_failed`` the runs whose status is not ``ok``. ``setting``
    is the config's setting (``base_setting``): its known-class splits are cells of it."""
    setting = runs["base_setting"] if "base_setting" in runs else runs["setting"]
    known = runs["known"].fillna("").astype(str) if "known" in runs else pd.Series("", index=runs.index)
    ok = runs["status"].astype(str) == "ok"
    frame = pd.DataFrame({"dataset": runs["dataset"].astype(str), "setting": setting.astype(str),
                          "normal": runs["normal"].astype(str), "known": known, "method": runs["method"],
                          "label": method_labels(runs),
                          "auroc": pd.to_numeric(runs["auroc"], errors="coerce").where(ok),
                          "n_failed": (~ok).astype(int)})
    grouped = frame.groupby(["dataset", "setting", "normal", "known", "method", "label"], sort=False)
    return grouped.agg(auroc=("auroc", "mean"), n_failed=("n_failed", "sum")).reset_index()


@dataclass(frozen=True)
class GroupRanks:
    """The ranks of one group: its methods (config names and labels, in run order), their failed
    runs, the cells in all and the labels left out, and the tests (``RankTest``)."""
    scope: str
    setting: str
    methods: tuple[str, ...]
    labels: tuple[str, ...]
    n_failed: tuple[int, ...]
    n_cells_total: int
    left_out: tuple[str, ...]
    test: RankTest


def rank_group(cells: pd.DataFrame, scope: str, setting: str, significance_level: float = 0.05,
               posthoc: str = "wilcoxon_holm") -> GroupRanks:
    """The ranks and tests of one (scope, setting) from ``cell_aurocs``."""
    rows = cells[cells["setting"] == setting]
    if scope != ALL_DATASETS:
        rows = rows[rows["dataset"] == scope]
    labels = list(pd.unique(rows["label"]))
    left_out = []
    if scope == ALL_DATASETS:
        datasets_per_label = rows.groupby("label")["dataset"].nunique()
        left_out = [label for label in labels if datasets_per_label[label] < rows["dataset"].nunique()]
        labels = [label for label in labels if label not in left_out]
        rows = rows[rows["label"].isin(labels)]
    table = rows.pivot(index=CELL_KEYS, columns="label", values="auroc").reindex(columns=labels)
    test = compare_methods(table.dropna().to_numpy(), significance_level, posthoc)
    method_of = dict(zip(rows["label"], rows["method"]))
    failed = rows.groupby("label")["n_failed"].sum()
    return GroupRanks(scope, setting, tuple(method_of[label] for label in labels), tuple(labels),
                      tuple(int(failed[label]) for label in labels), len(table), tuple(left_out), test)


def rank_all(runs: pd.DataFrame, significance_level: float = 0.05, posthoc: str = "wilcoxon_holm") -> list[GroupRanks]:
    """Every group of ``runs`` (``rank_groups`` of its datasets and settings)."""
    check_statistics(significance_level, posthoc)
    cells = cell_aurocs(runs)
    pairs = zip(cells["dataset"], cells["setting"])
    return [rank_group(cells, scope, setting, significance_level, posthoc)
            for scope, setting in rank_groups(pairs)]


# --------------------------------------------------------------------------- ranks.csv

def _group_values(group: GroupRanks) -> dict:
    test = group.test
    return {"n_cells": test.n_cells, "n_cells_total": group.n_cells_total,
            "methods_left_out": ", ".join(group.left_out), "tested": test.tested, "reason": test.reason,
            "friedman_chi2": test.chi2, "friedman_p": test.chi2_p, "iman_davenport_f": test.iman_davenport,
            "iman_davenport_p": test.iman_davenport_p, "rejected": test.rejected, "posthoc": test.posthoc,
            "significance_level": test.significance_level, "critical_difference": test.critical_difference}


def ranks_frame(groups: list[GroupRanks]) -> pd.DataFrame:
    """``ranks.csv``: one row per (group, method), each group's methods best first. A group
    without a method keeps one row with an empty label, so that its reason is still written."""
    rows = []
    for group in groups:
        shared = {"scope": group.scope, "setting": group.setting, **_group_values(group)}
        groups_of = group.test.groups or ("",) * len(group.labels)
        methods = [{**shared, "method": method, "label": label, "average_rank": float(rank), "group": letters,
                    "n_failed_runs": failed}
                   for method, label, rank, letters, failed in zip(group.methods, group.labels,
                                                                  group.test.average_ranks, groups_of,
                                                                  group.n_failed)]
        methods.sort(key=lambda row: math.inf if math.isnan(row["average_rank"]) else row["average_rank"])
        rows += methods or [{**shared, "method": "", "label": "", "average_rank": math.nan, "group": "",
                             "n_failed_runs": 0}]
    return pd.DataFrame(rows, columns=RANK_COLUMNS)


def pairwise_frame(groups: list[GroupRanks]) -> pd.DataFrame:
    """The post-hoc p-values of every pair of methods, in the groups where the post-hoc test ran."""
    rows = []
    for group in groups:
        test = group.test
        if not test.rejected:
            continue
        for i in range(len(group.labels)):
            for j in range(i + 1, len(group.labels)):
                p = float(test.p_values[i, j])
                rows.append({"scope": group.scope, "setting": group.setting, "label_a": group.labels[i],
                             "label_b": group.labels[j],
                             "rank_difference": float(test.average_ranks[i] - test.average_ranks[j]),
                             "p_value": p, "significant": p < test.significance_level})
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


def read_ranks(path) -> pd.DataFrame:
    """A ranks.csv written by ``ocbench ranks``."""
    text = {column: str for column in ("scope", "setting", "method", "label", "group", "methods_left_out", "reason",
                                       "posthoc")}
    frame = read_csv_file(path, "ranks table", RANK_COLUMNS, "make it with `ocbench ranks`",
                          "make it again with `ocbench ranks`", dtype=text)
    for column in ("method", "label", "group", "methods_left_out", "reason"):
        frame[column] = frame[column].fillna("")
    return frame


# --------------------------------------------------------------------------- words

def _p(value: float, latex: bool) -> str:
    text = "p < 0.001" if value < 0.001 else f"p = {value:.3f}"
    return f"${text}$" if latex else text


def _number(value: float, latex: bool) -> str:
    if math.isinf(value):
        return r"\infty" if latex else "∞"
    return f"{value:.2f}"


def test_sentences(group: pd.Series, latex: bool = False) -> list[str]:
    """What the tests of a group found, and what its table leaves out, as sentences for a caption
    (``latex``) or the Markdown summary. ``group``: one row of ``ranks.csv`` with the group's totals
    ``n_failed_total`` and ``n_methods`` (``_groups``)."""
    alpha = float(group["significance_level"])
    level = rf"$\alpha = {alpha:g}$" if latex else f"α = {alpha:g}"
    sentences = []
    if not bool(group["tested"]):
        sentences.append(f"No test: {group['reason']}.")
    else:
        chi2, chi2_p = _number(group["friedman_chi2"], latex), _p(group["friedman_p"], latex)
        f, f_p = _number(group["iman_davenport_f"], latex), _p(group["iman_davenport_p"], latex)
        statistics = (rf"$\chi^2_F = {chi2}$ ({chi2_p}), Iman--Davenport $F_F = {f}$ ({f_p})" if latex else
                      f"χ²_F = {chi2} ({chi2_p}), Iman–Davenport F_F = {f} ({f_p})")
        sentences.append(f"Friedman test: {statistics}.")
        if bool(group["rejected"]):
            cd = "" if math.isnan(group["critical_difference"]) else \
                f", critical difference {group['critical_difference']:.2f}"
            sentences.append(f"Methods that share a letter are not significantly different "
                             f"({POSTHOC_NAMES[group['posthoc']]}, {level}{cd}).")
        else:
            sentences.append(f"No difference at {level}: no post-hoc test, every method in group a.")
        fewest = wilcoxon_holm_min_cells(int(group["n_methods"]), alpha)
        if group["posthoc"] == "wilcoxon_holm" and int(group["n_cells"]) < fewest:
            sentences.append(f"With {int(group['n_cells'])} cells no pair of the {int(group['n_methods'])} "
                             f"methods can differ significantly after Holm's correction ({fewest} needed).")
    n, total = int(group["n_cells"]), int(group["n_cells_total"])
    if n < total:
        sentences.append(f"Compared on the {n} of {total} cells where every method has a result.")
    if group["methods_left_out"]:
        names = latex_escape(group["methods_left_out"]) if latex else group["methods_left_out"]
        sentences.append(f"Left out, for not running on every dataset: {names}.")
    failed = int(group["n_failed_total"])
    if failed:
        column = "column Failed" if latex else "*failed runs*"
        sentences.append(f"{failed} failed run{'s' if failed != 1 else ''} left out ({column}).")
    return sentences


def _groups(frame: pd.DataFrame):
    """Each group's rows of ``ranks.csv`` (its methods, best first) and its first row with the total of
    its failed runs."""
    for (scope, setting), rows in frame.groupby(["scope", "setting"], sort=False):
        first = rows.iloc[0].copy()
        first["n_failed_total"] = int(rows["n_failed_runs"].sum())
        first["n_methods"] = int((rows["label"] != "").sum())
        yield scope, setting, rows[rows["label"] != ""], first


def _cell_words(scope: str) -> str:
    where = "a dataset's normal class" if scope == ALL_DATASETS else "one normal class"
    return (f"a cell: {where}, or its (normal, known anomaly) class pair, the AUROC averaged over the seeds; "
            "rank 1 is the best, tied AUROCs share their average rank")


def ranks_latex(frame: pd.DataFrame, scope: str, setting: str) -> str:
    """The booktabs table of one group of ``ranks.csv``: method, average rank, the letters of the
    groups not significantly different, failed runs. Needs ``\\usepackage{booktabs,graphicx}``."""
    [(_, _, rows, first)] = [g for g in _groups(frame) if g[:2] == (scope, setting)]
    where = f"all datasets ({latex_escape(setting)})" if scope == ALL_DATASETS else \
        f"{latex_escape(scope)} ({latex_escape(setting)})"
    caption = (f"Average rank of the test AUROC on {where} over {int(first['n_cells'])} cells "
               f"({_cell_words(scope)}). " + " ".join(test_sentences(first, latex=True)))
    tabular = [r"\begin{tabular}{lccc}", r"\toprule", r"Method & Avg.\ rank & Group & Failed \\", r"\midrule"]
    tabular += [" & ".join([latex_escape(label), "--" if math.isnan(rank) else f"{rank:.2f}",
                            latex_escape(letters) or "--", str(int(failed))]) + r" \\"
                for label, rank, letters, failed in zip(short_labels(rows), rows["average_rank"], rows["group"],
                                                         rows["n_failed_runs"])]
    lines = ["% Average ranks written by `ocbench ranks`; needs \\usepackage{booktabs,graphicx}",
             r"\begin{table}[t]", r"\centering", f"\\caption{{{caption}}}",
             f"\\label{{tab:ranks-{scope}-{setting}}}",
             *fit_to_page(tabular + [r"\bottomrule", r"\end{tabular}"]), r"\end{table}"]
    return "\n".join(lines) + "\n"


def ranks_markdown(frame: pd.DataFrame, figure_of=None) -> list[str]:
    """The summary's section on ranks: per group, what the tests found, the table and the
    critical-difference diagram (``figure_of(scope, setting)``: its path relative to the summary)."""

    posthocs = sorted({POSTHOC_NAMES[name] for name in frame["posthoc"]})
    lines = ["## Ranks and significance", "",
             "Each method's average rank of the test AUROC over the cells of a dataset and setting, and over all "
             f"datasets of a setting ({_cell_words('')}). The Friedman test asks whether any method differs; where "
             f"it does, the post-hoc test ({'; '.join(posthocs)}) tells which pairs: methods that share a letter "
             "under *group* are not significantly different, and the diagram joins them by a bar "
             "(docs/statistics.md).", ""]
    for scope, setting, rows, first in _groups(frame):
        lines += [f"### {_scope_title(scope, setting)}", "", " ".join(test_sentences(first)), ""]
        table = [[label, "–" if math.isnan(rank) else f"{rank:.2f}", letters or "–", int(failed)]
                 for label, rank, letters, failed in zip(rows["label"], rows["average_rank"], rows["group"],
                                                         rows["n_failed_runs"])]
        if table:
            lines += [markdown_table(["method", "average rank", "group", "failed runs"], table), ""]
        if figure_of is not None:
            figure = figure_of(scope, setting)
            lines += [f"![Critical-difference diagram, {_scope_title(scope, setting)}]({figure})", ""]
    return lines


# --------------------------------------------------------------------------- files

def write_ranks(runs: pd.DataFrame, tables_dir, figures_dir, significance_level: float = 0.05,
                posthoc: str = "wilcoxon_holm") -> list[GroupRanks]:
    """Write ``ranks.csv``, ``ranks_pairwise.csv`` and a LaTeX table per group to ``tables_dir``, and a
    critical-difference diagram per group under ``figures_dir`` (``rank_figure_name``)."""
    from ..files import atomic_path
    from .plots import plot_critical_difference

    groups = rank_all(runs, significance_level, posthoc)
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    frame = ranks_frame(groups)
    with atomic_path(tables_dir / RANKS_CSV) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(tables_dir / PAIRWISE_CSV) as tmp:
        pairwise_frame(groups).to_csv(tmp, index=False)
    for group in groups:
        with atomic_path(tables_dir / rank_table_name(group.scope, group.setting)) as tmp:
            tmp.write_text(ranks_latex(frame, group.scope, group.setting), encoding="utf-8")
        test = group.test
        p_values = test.p_values if test.tested else None
        figure_labels = list(short_labels(pd.DataFrame({"method": group.methods, "label": group.labels})))
        out = figures_dir / rank_figure_name(group.scope, group.setting)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            plot_critical_difference(figure_labels, np.asarray(test.average_ranks), p_values, significance_level,
                                     test.critical_difference, _scope_title(group.scope, group.setting),
                                     _figure_note(test), tmp)
    return groups


def _figure_note(test: RankTest) -> str:
    if not test.tested:
        return f"no test: {test.reason}"
    if not test.rejected:
        return f"Friedman: no difference at α = {test.significance_level:g} ({test.n_cells} cells)"
    return f"{POSTHOC_NAMES[test.posthoc]}, α = {test.significance_level:g} ({test.n_cells} cells)"
