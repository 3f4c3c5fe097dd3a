"""AUROC tables: mean and std over seeds (CSV) and one LaTeX table per (dataset, setting).

AUROC is reported in percent, as the papers do. The std is the sample standard
deviation over seeds (``ddof=1``); with a single seed it is undefined and left blank.
"""
from __future__ import annotations

import math

import pandas as pd

from ..config import parse_normal
from ..data.splits import INDUCTIVE, TRANSDUCTIVE
from ..detectors import METHODS  # the registry is plain data: no torch
from .collect import method_labels

SUMMARY_KEYS = ["dataset", "setting", "normal", "method", "device"]
SUMMARY_COLUMNS = SUMMARY_KEYS + ["label", "auroc_mean", "auroc_std", "n_seeds", "n_failed"]
#: the threshold accuracies of the multi-class setting (``metrics.outlier_accuracies``), in percent
ACCURACY_COLUMNS = ["outlier_accuracy_mean", "outlier_accuracy_std", "inlier_accuracy_mean", "inlier_accuracy_std",
                    "anomaly_datasets"]
#: how a LaTeX cell with a failed run reads, and the note under the table that explains it
FAILED_CELL = r"--$^\dagger$"
FAILED_NOTE = (r"$^\dagger$ at least one run of this cell failed (no AUROC); the reasons are listed under "
               r"``Failed runs'' in summary.md.")

#: the most method columns side by side in a table: more are split into blocks stacked in the
#: same table (sixteen mean ± std columns side by side would print at half size on a page)
METHODS_PER_BLOCK = 6
#: the number of method columns in a block above which its columns sit closer together
NARROW_COLUMNS_FROM = 4

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds of the AUROC in percent, per (dataset, setting, normal, method, device).

    ``n_seeds`` counts the runs that have an AUROC (failed runs and single-class test
    sets have none); ``n_failed`` the runs whose status is not ``ok``. ``label`` is the
    method's column name in tables and figures (``collect.method_labels``). Rows keep
    the order of ``runs`` (methods in the order they were collected).
    """
    runs = runs.assign(label=method_labels(runs), auroc_percent=100.0 * runs["auroc"].astype(float),
                       failed=(runs["status"].astype(str) != "ok").astype(int),
                       protocol=runs["protocol"] if "protocol" in runs else math.nan)
    grouped = runs.groupby(SUMMARY_KEYS + ["label"], sort=False)
    summary = grouped["auroc_percent"].agg(auroc_mean="mean", auroc_std=lambda values: values.std(ddof=1),
                                           n_seeds="count")
    summary["n_failed"] = grouped["failed"].sum()
    summary = summary.join(accuracy_summary(runs, SUMMARY_KEYS + ["label"]))
    # what the runs recorded (a failed run records none); runs written before it existed were inductive
    summary["protocol"] = grouped["protocol"].first().astype(object).fillna(INDUCTIVE)
    return summary.reset_index()[SUMMARY_COLUMNS + ACCURACY_COLUMNS + ["protocol"]]


#: the columns of ``seed_marks``
MARK_COLUMNS = SUMMARY_KEYS + ["label", "not_worse", "seed_test", "p_holm", "significance_level"]
#: a paired test over seeds in a caption
SEED_TEST_WORDS = {"t-test": "paired $t$-test", "wilcoxon": "Wilcoxon signed-rank test"}


def seed_marks(runs: pd.DataFrame, significance_level: float = 0.05) -> pd.DataFrame:
    """Per (dataset, setting, normal, method, device): whether the method is not significantly worse
    than the best of its table row over the row's seeds (``significance.row_marks``: a one-sided
    paired test, Holm-corrected across the row's methods), the test (``seed_test``: ``t-test``,
    ``wilcoxon``, or empty for the best and for a method without two seeds in common with it) and
    the adjusted p-value. A method with a failed run in the row has a dash there, and no test."""
    from .significance import row_marks

    runs = runs.assign(label=method_labels(runs), auroc=pd.to_numeric(runs["auroc"], errors="coerce"))
    ok = runs["status"].astype(str) == "ok"
    rows = []
    for keys, row in runs.groupby(["dataset", "setting", "normal"], sort=False):
        labels = list(pd.unique(row["label"]))
        with_failure = set(row.loc[~ok.loc[row.index], "label"])
        values = row[ok.loc[row.index]].pivot(index="seed", columns="label", values="auroc").reindex(columns=labels)
        if with_failure:
            values[sorted(with_failure)] = math.nan
        marks = row_marks(values.to_numpy(dtype=float), significance_level)
        first = row.drop_duplicates("label").set_index("label")
        rows += [dict(zip(["dataset", "setting", "normal"], keys), method=first.loc[label, "method"],
                      device=first.loc[label, "device"], label=label, not_worse=bool(marks.not_worse[j]),
                      seed_test=marks.tests[j], p_holm=float(marks.p_values[j]), significance_level=significance_level)
                 for j, label in enumerate(labels)]
    return pd.DataFrame(rows, columns=MARK_COLUMNS)


def marks_caption(marks: pd.DataFrame) -> str:
    """The end of a caption that says how the cells of ``seed_marks`` are underlined."""
    tests = [test for test in ("t-test", "wilcoxon") if (marks["seed_test"] == test).any()]
    if not tests:
        return "; no paired test over seeds: no row has two seeds of two methods."
    from .significance import WILCOXON_FROM_SEEDS

    alpha = float(marks["significance_level"].iloc[0])
    if len(tests) == 2:
        named = (f"{SEED_TEST_WORDS['t-test']} below {WILCOXON_FROM_SEEDS} seeds, "
                 f"{SEED_TEST_WORDS['wilcoxon']} from {WILCOXON_FROM_SEEDS}")
    else:
        named = SEED_TEST_WORDS[tests[0]]
    return (r"; underlined, the methods not significantly worse than the best of their row over its seeds "
            f"(one-sided {named}, Holm-corrected across the row's methods, $\\alpha = {alpha:g}$).")


def accuracy_summary(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and std over seeds of the outlier and inlier accuracies (percent), and the anomaly datasets.

    Runs written before these metrics existed have none: their cells are NaN.
    """
    columns = {}
    for name in ("outlier_accuracy", "inlier_accuracy"):
        values = runs[name] if name in runs else pd.Series(math.nan, index=runs.index)
        columns[name] = 100.0 * pd.to_numeric(values, errors="coerce")
    sources = runs["anomaly_datasets"] if "anomaly_datasets" in runs else pd.Series("", index=runs.index)
    frame = runs[keys].assign(**columns, anomaly_datasets=sources.fillna("").astype(str))
    grouped = frame.groupby(keys, sort=False)
    out = pd.DataFrame({f"{name}_{stat}": grouped[name].agg(stat if stat == "mean" else lambda v: v.std(ddof=1))
                        for name in columns for stat in ("mean", "std")})
    out["anomaly_datasets"] = grouped["anomaly_datasets"].first()
    return out


def short_name(method: str) -> str:
    """The method's ``short_name`` in the registry, or ``method`` itself when it has none."""
    spec = METHODS.get(method)
    return spec.short_name if spec is not None and spec.short_name else method


def short_labels(frame: pd.DataFrame) -> pd.Series:
    """The ``label`` column (``method`` or ``method (device)``) with the method's short name, for
    LaTeX tables and figures: sixteen config names side by side do not fit a page."""
    labels = frame["label"] if "label" in frame else method_labels(frame)
    return pd.Series([short_name(method) + label[len(method):] if label.startswith(method) else label
                      for method, label in zip(frame["method"], labels)], index=frame.index, dtype=object)


def fit_to_page(tabular: list[str]) -> list[str]:
    """``tabular``'s lines in two ``\\resizebox`` (graphicx) that shrink it to the line width and to
    0.8 of the text height where it is larger, keeping its aspect, and never enlarge it."""
    return [r"\resizebox*{!}{\ifdim\totalheight>0.8\textheight 0.8\textheight\else\totalheight\fi}{%",
            r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
            *tabular, r"}}"]


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (method names hold underscores)."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in str(text))


def _cell(mean: float, std: float, bold: bool, failed: bool = False, underline: bool = False) -> str:
    if failed:
        return FAILED_CELL
    if math.isnan(mean):
        return "--"
    text = f"{mean:.1f}" if math.isnan(std) else f"{mean:.1f}$\\pm${std:.1f}"
    if bold:
        return f"\\textbf{{{text}}}"
    return f"\\underline{{{text}}}" if underline else text


def _cells(means: list[float], stds: list[float], failed: list[bool] | None = None,
           not_worse: list[bool] | None = None) -> list[str]:
    """The cells of one row, its best mean in bold, and underlined the other cells ``not_worse`` marks
    (not significantly worse than the best, ``seed_marks``)."""
    # A cell with a failed run shows a dash, never the mean of the runs that did not fail.
    failed = failed or [False] * len(means)
    not_worse = not_worse or [False] * len(means)
    means = [math.nan if f else m for m, f in zip(means, failed)]
    # The best is judged on the printed (rounded) means, so equal-looking cells are all bold.
    shown = [round(m, 1) for m in means if not math.isnan(m)]
    best = max(shown) if shown else None
    return [_cell(m, s, not math.isnan(m) and round(m, 1) == best, f, u)
            for m, s, f, u in zip(means, stds, failed, not_worse)]


def method_blocks(n_methods: int, per_block: int = METHODS_PER_BLOCK) -> list[slice]:
    """The methods' columns split into the fewest blocks of at most ``per_block``, as even as can be
    (16 methods: 6, 5 and 5)."""
    n_blocks = max(1, math.ceil(n_methods / per_block))
    bounds = [math.ceil(i * n_methods / n_blocks) for i in range(n_blocks + 1)]
    return [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]


def latex_table(summary: pd.DataFrame, marks: pd.DataFrame | None = None) -> str:
    """A booktabs table of one (dataset, setting): one row per normal class, one column per method.

    ``summary``: the rows of ``summarize`` for one dataset and setting. Cells read
    ``98.0$\\pm$0.5`` (mean ± std over seeds, one decimal); the best mean of each row is
    bold (all of them on a tie). ``marks`` (``seed_marks``), where given, underline the methods
    not significantly worse than the row's best over its seeds, and the caption names the test
    and the level. The last row, ``mean``, averages the class means of
    each method. Methods go by their short names (``short_labels``); more than
    ``METHODS_PER_BLOCK`` are split into blocks stacked in the table (``method_blocks``), each
    with its header and mean row, the bold still the best of the whole row; and a table wider
    than the line or taller than the page is shrunk to fit (``fit_to_page``). Needs
    ``\\usepackage{booktabs,graphicx}``.
    """
    pairs = summary[["dataset", "setting"]].drop_duplicates()
    if len(pairs) != 1:
        raise ValueError(f"latex_table takes the rows of one (dataset, setting), got {len(pairs)}")
    dataset, setting = pairs.iloc[0]
    summary = summary.assign(label=short_labels(summary))
    labels = list(pd.unique(summary["label"]))
    normals = sorted(pd.unique(summary["normal"]), key=parse_normal)
    means = summary.pivot(index="normal", columns="label", values="auroc_mean").reindex(index=normals,
                                                                                       columns=labels)
    stds = summary.pivot(index="normal", columns="label", values="auroc_std").reindex(index=normals,
                                                                                     columns=labels)
    if "n_failed" not in summary:  # a summary made by hand, without failures
        summary = summary.assign(n_failed=0)
    failed = summary.pivot(index="normal", columns="label", values="n_failed").reindex(
        index=normals, columns=labels).fillna(0) > 0
    not_worse = pd.DataFrame(False, index=normals, columns=labels)
    if marks is not None:
        marked = summary.merge(marks[SUMMARY_KEYS + ["not_worse"]], on=SUMMARY_KEYS, how="left")
        not_worse = marked.pivot(index="normal", columns="label", values="not_worse").reindex(
            index=normals, columns=labels).fillna(False).astype(bool)
    lines = [
        "% AUROC (%) table written by `ocbench tables`; needs \\usepackage{booktabs,graphicx}",
        r"\begin{table}[t]",
        r"\centering",
        f"\\caption{{{_scored_on(summary)} AUROC (\\%) on {latex_escape(dataset)} ({latex_escape(setting)}): "
        r"mean $\pm$ std over seeds; the best method of each row in bold"
        + ("." if marks is None else marks_caption(marks[(marks["dataset"] == dataset)
                                                          & (marks["setting"] == setting)])) + "}",
        f"\\label{{tab:auroc-{dataset}-{setting}}}",
    ]
    rows = {normal: _cells([float(v) for v in means.loc[normal]], [float(v) for v in stds.loc[normal]],
                           [bool(v) for v in failed.loc[normal]], [bool(v) for v in not_worse.loc[normal]])
            for normal in normals}
    class_means = [float(means[label].mean()) for label in labels]  # NaN only if a method has no AUROC at all
    rows["mean"] = _cells(class_means, [math.nan] * len(labels), [bool(failed[label].any()) for label in labels])
    blocks = method_blocks(len(labels))
    widest = max(block.stop - block.start for block in blocks)
    if widest > NARROW_COLUMNS_FROM:  # half the padding between columns: less to shrink
        lines.append(r"\setlength{\tabcolsep}{3pt}")
    tabular = [f"\\begin{{tabular}}{{l{'c' * widest}}}", r"\toprule"]
    for number, block in enumerate(blocks):
        if number:
            tabular.append(r"\midrule[\heavyrulewidth]")
        tabular += [" & ".join(["Normal class", *map(latex_escape, labels[block])]) + r" \\", r"\midrule"]
        tabular += [" & ".join([latex_escape(name), *cells[block]]) + r" \\" for name, cells in rows.items()
                    if name != "mean"]
        tabular += [r"\midrule", " & ".join(["mean", *rows["mean"][block]]) + r" \\"]
    lines += fit_to_page(tabular + [r"\bottomrule", r"\end{tabular}"])
    if failed.values.any():
        lines += [r"\par\smallskip{\footnotesize " + FAILED_NOTE + "}"]
    lines += [r"\end{table}"]
    return "\n".join(lines) + "\n"


def _scored_on(summary: pd.DataFrame) -> str:
    """``Test``, or for a transductive setting what it was scored on (``data.splits.make_transductive_split``)."""
    if "protocol" in summary and (summary["protocol"] == TRANSDUCTIVE).any():
        return "Transductive (scored on the training images)"
    return "Test"


def latex_tables(summary: pd.DataFrame, marks: pd.DataFrame | None = None) -> dict[tuple[str, str], str]:
    """One LaTeX table per (dataset, setting) present in ``summary``; the multi-class layout
    (``multiclass_latex_table``, a row per method: no best of a row to mark) where the setting's
    anomalies came from other datasets. ``marks``: see ``latex_table``."""
    def table(rows):
        multiclass = "anomaly_datasets" in rows and (rows["anomaly_datasets"].fillna("") != "").any()
        return multiclass_latex_table(rows) if multiclass else latex_table(rows, marks)

    return {(dataset, setting): table(rows)
            for (dataset, setting), rows in summary.groupby(["dataset", "setting"], sort=False)}


def multiclass_latex_table(summary: pd.DataFrame) -> str:
    """A booktabs table of one (dataset, setting) of the multi-class setting: one row per
    (normal classes, method), with the AUROC and the accuracies on the outliers and on the
    inliers at the method's threshold (percent, mean ± std over seeds), as the multi-class
    Deep SVDD fork reports them. A cell with a failed run, the methods' names and the fit
    to the page are as in ``latex_table``.
    """
    pairs = summary[["dataset", "setting"]].drop_duplicates()
    if len(pairs) != 1:
        raise ValueError(f"multiclass_latex_table takes the rows of one (dataset, setting), got {len(pairs)}")
    dataset, setting = pairs.iloc[0]
    summary = summary.assign(label=short_labels(summary))
    sources = " and ".join(sorted({s for s in summary["anomaly_datasets"].fillna("") if s}))
    lines = [
        "% AUROC and threshold accuracies (%) written by `ocbench tables`; "
        "needs \\usepackage{booktabs,graphicx}",
        r"\begin{table}[t]",
        r"\centering",
        f"\\caption{{{latex_escape(dataset)} ({latex_escape(setting)}) against the test images of "
        f"{latex_escape(sources.replace('+', ', '))}: test AUROC and the accuracy on the outliers and on the "
        r"inliers at each method's threshold (\%), mean $\pm$ std over seeds.}",
        f"\\label{{tab:auroc-{dataset}-{setting}}}",
    ]
    tabular = [
        r"\begin{tabular}{llccc}",
        r"\toprule",
        r"Normal classes & Method & AUROC & Outlier acc. & Inlier acc. \\",
        r"\midrule",
    ]
    failed = summary["n_failed"] > 0 if "n_failed" in summary else pd.Series(False, index=summary.index)
    for normal in sorted(pd.unique(summary["normal"]), key=parse_normal):
        rows = summary[summary["normal"] == normal]
        for index, row in rows.iterrows():
            cells = [_cell(float(row[f"{name}_mean"]), float(row[f"{name}_std"]), False, bool(failed[index]))
                     for name in ("auroc", "outlier_accuracy", "inlier_accuracy")]
            tabular.append(" & ".join([latex_escape(normal), latex_escape(row["label"]), *cells]) + r" \\")
    lines += fit_to_page(tabular + [r"\bottomrule", r"\end{tabular}"])
    if failed.any():
        lines += [r"\par\smallskip{\footnotesize " + FAILED_NOTE + "}"]
    lines += [r"\end{table}"]
    return "\n".join(lines) + "\n"


def latex_file_name(dataset: str, setting: str) -> str:
    """The file name the workflow expects (rules/common.smk ``latex_tables``)."""
    return f"auroc_{dataset}_{setting}.tex"


def markdown_table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (summary.md): a header row, its rule, one row a list."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
