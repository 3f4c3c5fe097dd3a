"""AUROC tables: mean and std over seeds (CSV) and one LaTeX table per (dataset, setting).

AUROC is reported in percent, as the papers do. The std is the sample standard
deviation over seeds (``ddof=1``); with a single seed it is undefined and left blank.
"""
from __future__ import annotations

import math

import pandas as pd

from ..config import parse_normal
from .collect import method_labels

SUMMARY_KEYS = ["dataset", "setting", "normal", "method", "device"]
SUMMARY_COLUMNS = SUMMARY_KEYS + ["label", "auroc_mean", "auroc_std", "n_seeds"]

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of the AUROC in percent, per (dataset, setting, normal, method, device).

    ``n_seeds`` counts the runs that have an AUROC (failed runs and single-class test
    sets have none). ``label`` is the method's column name in tables and figures
    (``collect.method_labels``). Rows keep the order of ``runs`` (methods in the order
    they were collected).
    """
    runs = runs.assign(label=method_labels(runs), auroc_percent=100.0 * runs["auroc"].astype(float))
    grouped = runs.groupby(SUMMARY_KEYS + ["label"], sort=False)["auroc_percent"]
    summary = grouped.agg(auroc_mean="mean", auroc_std=lambda values: values.std(ddof=1), n_seeds="count")
    return summary.reset_index()[SUMMARY_COLUMNS]


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (method names hold underscores)."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in str(text))


def _cell(mean: float, std: float, bold: bool) -> str:
    if math.isnan(mean):
        return "--"
    text = f"{mean:.1f}" if math.isnan(std) else f"{mean:.1f}$\\pm${std:.1f}"
    return f"\\textbf{{{text}}}" if bold else text


def _row(name: str, means: list[float], stds: list[float]) -> str:
    # The best is judged on the printed (rounded) means, so equal-looking cells are all bold.
    shown = [round(m, 1) for m in means if not math.isnan(m)]
    best = max(shown) if shown else None
    cells = [_cell(m, s, not math.isnan(m) and round(m, 1) == best) for m, s in zip(means, stds)]
    return " & ".join([latex_escape(name), *cells]) + r" \\"


def latex_table(summary: pd.DataFrame) -> str:
    """A booktabs table of one (dataset, setting): one row per normal class, one column per method.

    ``summary``: the rows of ``summarize`` for one dataset and setting. Cells read
    ``98.0$\\pm$0.5`` (mean ± std over seeds, one decimal); the best mean of each row is
    bold (all of them on a tie). The last row, ``mean``, averages the class means of
    each method. Needs ``\\usepackage{booktabs}``.
    """
    pairs = summary[["dataset", "setting"]].drop_duplicates()
    if len(pairs) != 1:
        raise ValueError(f"latex_table takes the rows of one (dataset, setting), got {len(pairs)}")
    dataset, setting = pairs.iloc[0]
    labels = list(pd.unique(summary["label"]))
    normals = sorted(pd.unique(summary["normal"]), key=parse_normal)
    means = summary.pivot(index="normal", columns="label", values="auroc_mean").reindex(index=normals,
                                                                                       columns=labels)
    stds = summary.pivot(index="normal", columns="label", values="auroc_std").reindex(index=normals,
                                                                                     columns=labels)
    lines = [
        "% AUROC (%) table written by `ocbench tables`; needs \\usepackage{booktabs}",
        r"\begin{table}[t]",
        r"\centering",
        f"\\caption{{Test AUROC (\\%) on {latex_escape(dataset)} ({latex_escape(setting)}): "
        r"mean $\pm$ std over seeds; the best method of each row in bold.}",
        f"\\label{{tab:auroc-{dataset}-{setting}}}",
        f"\\begin{{tabular}}{{l{'c' * len(labels)}}}",
        r"\toprule",
        " & ".join(["Normal class", *map(latex_escape, labels)]) + r" \\",
        r"\midrule",
    ]
    for normal in normals:
        lines.append(_row(normal, [float(v) for v in means.loc[normal]], [float(v) for v in stds.loc[normal]]))
    lines.append(r"\midrule")
    class_means = [float(means[label].mean()) for label in labels]  # NaN only if a method has no AUROC at all
    lines.append(_row("mean", class_means, [math.nan] * len(labels)))
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def latex_tables(summary: pd.DataFrame) -> dict[tuple[str, str], str]:
    """One LaTeX table per (dataset, setting) present in ``summary``."""
    return {(dataset, setting): latex_table(rows)
            for (dataset, setting), rows in summary.groupby(["dataset", "setting"], sort=False)}


def latex_file_name(dataset: str, setting: str) -> str:
    """The file name the workflow expects (rules/common.smk ``latex_tables``)."""
    return f"auroc_{dataset}_{setting}.tex"
