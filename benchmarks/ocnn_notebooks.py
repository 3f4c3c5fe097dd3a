"""ocbench's per-class AUROCs beside the OC-NN authors' notebooks' numbers, as a Markdown table (docs/fidelity.md).

Reads a finished workflow's ``runs.csv`` (for example of ``workflow/experiments/ocnn_mnist5k.yaml``)
and the shipped ``published/ocnn_authors_notebooks.csv``; prints one row per normal class:
ocbench's mean ± std over seeds of each method, the notebooks' mean ± std, and the
difference of the means. A stand-in dataset (``mnist5k``) meets the numbers of the
dataset it stands in for (``report.comparison.STAND_INS``); a dash where the notebooks
printed no number for the class.

    .venv/bin/python benchmarks/ocnn_notebooks.py --runs results/ocnn_mnist5k/tables/runs.csv
"""
from __future__ import annotations

import argparse
import math

import pandas as pd

from ocbench.report.comparison import STAND_INS, published_text
from ocbench.report.published import load_published

#: ocbench's method -> the notebooks' method it is set against (the paper's OC-NN beside the authors')
AGAINST = {"ocnn_authors_code": "ocnn_authors_code", "ocnn": "ocnn_authors_code", "rcae": "rcae", "cae": "cae"}


def _mean_std(values: pd.Series) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True, help="runs.csv of a finished workflow")
    parser.add_argument("--dataset", default="mnist5k")
    args = parser.parse_args()

    runs = pd.read_csv(args.runs, dtype={"normal": str})
    runs = runs[(runs["dataset"] == args.dataset) & (runs["status"] == "ok")]
    published_dataset = STAND_INS.get(args.dataset, (args.dataset,))[0]
    published = load_published().query("table == 'ocnn_authors_notebooks' and dataset == @published_dataset")
    methods = [m for m in AGAINST if m in set(runs["method"])]
    header = ["normal class"] + [f"{m} (ocbench / notebooks / difference)" for m in methods]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for normal in sorted(runs["normal"].unique(), key=int):
        cells = [normal]
        for method in methods:
            ours, spread = _mean_std(100 * runs.query("normal == @normal and method == @method")["auroc"])
            against = AGAINST[method]
            theirs = published.query("normal == @normal and method == @against")
            text = f"{ours:.1f}" + ("" if math.isnan(spread) else f" ± {spread:.1f}")
            if len(theirs):
                row = theirs.iloc[0]
                text += f" / {published_text(row.auc_mean, row.auc_std)} / {ours - row.auc_mean:+.1f}"
            else:
                text += " / – / –"
            cells.append(text)
        print("| " + " | ".join(cells) + " |")
    means = ["mean over classes"] + [f"{100 * runs.query('method == @m').groupby('normal')['auroc'].mean().mean():.1f}"
                                     for m in methods]
    print("| " + " | ".join(means) + " |")


if __name__ == "__main__":
    main()
