"""A Markdown summary of the runs, with a comparison to the published one-class numbers."""
from __future__ import annotations

import math

import pandas as pd

from .collect import RUN_KEYS, method_labels
from .published import one_class_results
from .tables import summarize

#: datasets compared with another dataset's published numbers, and why (shown in the summary)
STAND_INS = {"mnist5k": ("mnist", "mnist5k is a 5,000-digit subset of MNIST (fewer training and test "
                                   "digits than the papers used), so its comparison with the MNIST numbers "
                                   "is an indication only")}


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value: float) -> str:
    """A published number as printed there: one or two decimals."""
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.2f} h"


def _mean_std(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.1f}" if math.isnan(std) else f"{mean:.1f} ± {std:.1f}"


def _is_ok(runs: pd.DataFrame) -> pd.Series:
    return runs["status"].astype(str) == "ok"


def _overview(runs: pd.DataFrame) -> list[str]:
    ok = _is_ok(runs)
    seeds = ", ".join(str(s) for s in sorted(pd.unique(runs["seed"])))
    train, test = runs["train_time_s"].sum(), runs["test_time_s"].sum()
    return [
        f"- runs: {len(runs)} ({int(ok.sum())} ok, {int((~ok).sum())} failed)",
        f"- datasets: {', '.join(pd.unique(runs['dataset']))}; settings: {', '.join(pd.unique(runs['setting']))}",
        f"- methods: {', '.join(pd.unique(runs['method']))}",
        f"- seeds: {seeds}; devices: {', '.join(pd.unique(runs['device']))}",
        f"- total train time: {_duration(train)}; total test time: {_duration(test)}",
    ]


def _failed(runs: pd.DataFrame) -> list[str]:
    failed = runs[~_is_ok(runs)]
    if failed.empty:
        return []
    rows = [[*(row[k] for k in RUN_KEYS), row["status"]] for _, row in failed.iterrows()]
    return ["## Failed runs", "", markdown_table(RUN_KEYS + ["status"], rows), ""]


def _per_dataset(runs: pd.DataFrame) -> list[str]:
    lines = ["## Mean test AUROC (%)", "",
             "Per dataset and setting, each method's AUROC averaged over the normal classes and seeds; "
             "*runs* counts the runs with an AUROC, *train time* is their sum.", ""]
    runs = runs.assign(label=method_labels(runs), auroc_percent=100.0 * runs["auroc"].astype(float))
    for (dataset, setting), group in runs.groupby(["dataset", "setting"], sort=False):
        rows = []
        for label, of_method in group.groupby("label", sort=False):
            mean = of_method["auroc_percent"].mean()
            rows.append([label, "–" if math.isnan(mean) else f"{mean:.1f}",
                         int(of_method["auroc_percent"].count()), f"{of_method['train_time_s'].sum():.1f}"])
        lines += [f"### {dataset} / {setting}", "",
                  markdown_table(["method", "mean AUROC (%)", "runs", "train time (s)"], rows), ""]
    return lines


def _one_class_settings(settings: dict | None) -> set[str] | None:
    """The settings whose training data are clean and unlabelled, as in the published one-class
    tables; None when the settings are not known (every setting is then compared)."""
    if settings is None:
        return None
    return {name for name, split in settings.items()
            if not split.get("ratio_known_normal", 0) and not split.get("ratio_known_outlier", 0)
            and not split.get("ratio_pollution", 0)}


def comparison_rows(runs: pd.DataFrame, settings: dict | None = None,
                    published: pd.DataFrame | None = None) -> pd.DataFrame:
    """ocbench's mean ± std over seeds beside each published one-class number of the same
    dataset (or its stand-in), normal class and method."""
    summary = summarize(runs)
    summary = summary[summary["n_seeds"] > 0]
    comparable = _one_class_settings(settings)
    if comparable is not None:
        summary = summary[summary["setting"].isin(comparable)]
    summary = summary.assign(published_dataset=summary["dataset"].map(
        lambda d: STAND_INS[d][0] if d in STAND_INS else d))
    reference = one_class_results(published).rename(columns={"dataset": "published_dataset"})
    merged = summary.merge(reference, on=["published_dataset", "normal", "method"], how="inner")
    return merged.reset_index(drop=True)


def _comparison(runs: pd.DataFrame, settings: dict | None, published: pd.DataFrame | None) -> list[str]:
    lines = ["## Comparison with published numbers", ""]
    merged = comparison_rows(runs, settings, published)
    if merged.empty:
        return lines + ["No run matches a published one-class result (same dataset, normal class and method).",
                        ""]
    lines += ["Test AUROC (%) per normal class: ocbench's mean ± std over its seeds beside the published "
              "mean ± std (a blank std: the source gives none). *difference* is ocbench minus published."]
    if settings is None:
        lines += ["The published numbers come from clean, unlabelled one-class training; the *setting* column "
                  "says under which split ocbench's number was made."]
    for dataset in pd.unique(merged["dataset"]):
        if dataset in STAND_INS:
            lines += [f"**{dataset} vs {STAND_INS[dataset][0]}**: {STAND_INS[dataset][1]}."]
    lines.append("")
    rows = []
    for row in merged.itertuples():
        name = row.dataset
        if row.dataset != row.published_dataset:
            name = f"{row.dataset} (vs {row.published_dataset}, indication only)"
        published_cell = _number(row.auc_mean) + ("" if math.isnan(row.auc_std) else f" ± {_number(row.auc_std)}")
        rows.append([name, row.setting, row.normal, row.label, f"{_mean_std(row.auroc_mean, row.auroc_std)} "
                     f"({row.n_seeds} seeds)", published_cell, f"{row.auroc_mean - row.auc_mean:+.1f}",
                     row.source])
    headers = ["dataset", "setting", "normal class", "method", "ocbench", "published", "difference", "source"]
    return lines + [markdown_table(headers, rows), ""]


def summary_markdown(runs: pd.DataFrame, settings: dict | None = None,
                     published: pd.DataFrame | None = None) -> str:
    """The summary as Markdown text. ``settings``: the config's split settings by name; when
    given, only the clean one-class settings are compared with the published numbers."""
    lines = ["# ocbench results", "", *_overview(runs), "", *_failed(runs), *_per_dataset(runs),
             *_comparison(runs, settings, published)]
    return "\n".join(lines).rstrip() + "\n"


def write_summary(runs: pd.DataFrame, out, settings: dict | None = None) -> None:
    """Write ``summary_markdown`` to ``out`` (a failed write leaves no half file)."""
    from ..runs import atomic_path

    text = summary_markdown(runs, settings)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
