"""The report commands of ``ocbench``: collect, tables, plot-auroc, plot-roc, plot-extremes, summary.

Handlers import their module when called, so ``ocbench run`` never pays for pandas,
matplotlib or seaborn. Every file is written beside its destination and renamed into
place (``runs.atomic_path``): a failed command leaves no half-written file.
"""
from __future__ import annotations

import logging

from ..argtypes import json_object

log = logging.getLogger("ocbench.report")


def _collect(args):
    from ..runs import atomic_path
    from .collect import collect_runs

    runs = collect_runs(args.paths)
    with atomic_path(args.out) as tmp:
        runs.to_csv(tmp, index=False)
    log.info("%d runs collected into %s", len(runs), args.out)


def _tables(args):
    from pathlib import Path

    from ..runs import atomic_path
    from .collect import read_runs
    from .tables import latex_file_name, latex_tables, summarize

    summary = summarize(read_runs(args.runs))
    outdir = Path(args.outdir)
    with atomic_path(outdir / "auroc_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    for (dataset, setting), text in latex_tables(summary).items():
        with atomic_path(outdir / latex_file_name(dataset, setting)) as tmp:
            tmp.write_text(text, encoding="utf-8")
    log.info("AUROC summary and LaTeX tables written to %s", outdir)


def _plot_auroc(args):
    from ..runs import atomic_path
    from .collect import read_runs
    from .plots import check_figure_path, plot_auroc

    runs = read_runs(args.runs)
    with atomic_path(check_figure_path(args.out)) as tmp:
        plot_auroc(runs, tmp)


def _plot_roc(args):
    from ..runs import atomic_path
    from .plots import check_figure_path, plot_roc

    with atomic_path(check_figure_path(args.out)) as tmp:
        plot_roc(args.paths, tmp)


def _plot_extremes(args):
    from ..runs import atomic_path
    from .plots import check_figure_path, plot_extremes

    with atomic_path(check_figure_path(args.out)) as tmp:
        plot_extremes(args.prepared, args.scores, tmp, n=args.n)


def _summary(args):
    from .collect import read_runs
    from .summary import write_summary

    write_summary(read_runs(args.runs), args.out, settings=args.settings)


def add_report_commands(sub) -> None:
    """Register the report commands on the ``ocbench`` subparsers."""
    p = sub.add_parser("collect", help="gather the metrics.json of many runs into one runs.csv")
    p.add_argument("--out", required=True, help="runs.csv to write")
    p.add_argument("paths", nargs="+", metavar="PATH", help="metrics.json files (or @listing, one per line)")
    p.set_defaults(func=_collect)

    p = sub.add_parser("tables", help="AUROC mean ± std over seeds: auroc_summary.csv and a LaTeX table "
                                      "per (dataset, setting)")
    p.add_argument("--runs", required=True, help="runs.csv from `ocbench collect`")
    p.add_argument("--outdir", required=True)
    p.set_defaults(func=_tables)

    p = sub.add_parser("plot-auroc", help="figure of the AUROC per normal class and method, one point per seed")
    p.add_argument("--runs", required=True, help="runs.csv from `ocbench collect`")
    p.add_argument("--out", required=True, help="figure file (.png, .pdf or .svg)")
    p.set_defaults(func=_plot_auroc)

    p = sub.add_parser("plot-roc", help="figure of the ROC curves of every method")
    p.add_argument("--out", required=True, help="figure file (.png, .pdf or .svg)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="scores.csv files (or @listing, one per line)")
    p.set_defaults(func=_plot_roc)

    p = sub.add_parser("plot-extremes", help="figure of the most normal and most anomalous test images of the "
                                             "normal class")
    p.add_argument("--prepared", required=True, help="prepared .npz of an image dataset")
    p.add_argument("--scores", required=True, help="scores.csv of one run on that dataset")
    p.add_argument("--out", required=True, help="figure file (.png, .pdf or .svg)")
    p.add_argument("--n", type=int, default=32, help="images per grid (default 32)")
    p.set_defaults(func=_plot_extremes)

    p = sub.add_parser("summary", help="a Markdown summary with a comparison to the published numbers")
    p.add_argument("--runs", required=True, help="runs.csv from `ocbench collect`")
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--settings", type=json_object, default=None,
                   help="the config's split settings as a JSON object; the comparison with the one-class "
                        "papers then keeps to the settings without labels or pollution")
    p.set_defaults(func=_summary)
