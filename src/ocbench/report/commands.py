"""The report commands of ``ocbench``: collect, tables, ranks, plot-auroc, plot-roc, plot-extremes, summary.

Handlers import the report modules (pandas, matplotlib, seaborn) when called, so a job
command (``ocbench split``, ``ocbench run-batch``) never pays for them. Every file is written beside its destination and renamed into
place (``io.atomic_path``): a failed command leaves no half-written file.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .. import paths
from ..argtypes import json_object
from ..errors import OcbenchError
from ..files import atomic_path

log = logging.getLogger("ocbench.report")


def _collect(args):
    from .collect import collect_runs, manifest_records  # here and below: pandas (module docstring)

    runs = collect_runs([*manifest_records(args.manifests or []), *args.paths])
    with atomic_path(args.out) as tmp:
        runs.to_csv(tmp, index=False)
    log.info("%d runs collected into %s", len(runs), args.out)


def _tables(args):
    from .collect import read_runs
    from .tables import latex_file_name, latex_tables, seed_marks, summarize

    runs = read_runs(args.runs)
    summary = summarize(runs)
    outdir = Path(args.outdir)
    with atomic_path(outdir / "auroc_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    for (dataset, setting), text in latex_tables(summary, seed_marks(runs, args.significance_level)).items():
        with atomic_path(outdir / latex_file_name(dataset, setting)) as tmp:
            tmp.write_text(text, encoding="utf-8")
    log.info("AUROC summary and LaTeX tables written to %s", outdir)


def _ranks(args):
    from .collect import read_runs
    from .ranks import write_ranks

    groups = write_ranks(read_runs(args.runs), args.tables_dir, args.figures_dir, args.significance_level,
                         args.posthoc)
    log.info("ranks of %d groups written to %s and %s", len(groups), args.tables_dir, args.figures_dir)


def _plot_auroc(args):
    from .collect import read_runs
    from .plots import check_figure_path, plot_auroc

    runs = read_runs(args.runs)
    with atomic_path(check_figure_path(args.out)) as tmp:
        plot_auroc(runs, tmp)


def _family(runs_path, dataset, setting, seeds=None):
    """The good runs of one (dataset, setting) in a runs.csv (of ``seeds`` when given)."""
    from .collect import read_runs

    runs = read_runs(runs_path)
    chosen = runs[(runs["dataset"] == dataset) & (runs["setting"] == setting) & (runs["status"] == "ok")]
    if seeds is not None:
        chosen = chosen[chosen["seed"].isin(seeds)]
    if (chosen["run_dir"] == "").any():
        raise OcbenchError(f"runs table {runs_path} has no run_dir column; make it again with `ocbench collect`")
    return chosen


def _plot_roc(args):
    from .plots import check_figure_path, plot_roc

    paths = list(args.paths)
    if args.runs:
        if not (args.dataset and args.setting):
            raise OcbenchError("plot-roc --runs needs --dataset and --setting")
        paths += [Path(d) / "scores.csv" for d in _family(args.runs, args.dataset, args.setting)["run_dir"]]
    with atomic_path(check_figure_path(args.out)) as tmp:
        plot_roc(paths, tmp, panel=f"{args.dataset} ({args.setting})" if args.runs else None)


def _plot_extremes(args):
    from .plots import check_figure_path, plot_extremes

    if args.scores:
        with atomic_path(check_figure_path(args.out)) as tmp:
            plot_extremes(args.prepared, args.scores, tmp, n=args.n)
        return
    if not (args.runs and args.dataset and args.setting and args.outdir):
        raise OcbenchError("plot-extremes needs --scores and --out (one run), or --runs, --dataset, --setting "
                           "and --outdir (every good run of a dataset and setting)")
    # One figure per good run: outdir/{normal}/seed{seed}/{method}/{device}.png (a failed run has none).
    family = _family(args.runs, args.dataset, args.setting, args.seeds)
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for run in family.itertuples():
        out = outdir / paths.EXTREMES_FIGURE.format(normal=run.normal, seed=run.seed, method=run.method,
                                                    device=run.device)
        with atomic_path(out) as tmp:
            plot_extremes(args.prepared, Path(run.run_dir) / paths.SCORES, tmp, n=args.n)
    log.info("%d extremes figures written under %s", len(family), outdir)


def _summary(args):
    from .collect import read_runs
    from .summary import read_configuration, write_summary

    config = read_configuration(args.configuration) if args.configuration else None
    write_summary(read_runs(args.runs), args.out, settings=args.settings, comparison_dir=args.comparison_dir,
                  config=config, snakemake_version=args.snakemake_version, auroc_figure=args.auroc_figure,
                  ranks=args.ranks, rank_figures=args.rank_figures)


def add_report_commands(sub) -> None:
    """Register the report commands on the ``ocbench`` subparsers."""
    p = sub.add_parser("collect", help="gather the metrics.json of many runs into one runs.csv")
    p.add_argument("--out", required=True, help="runs.csv to write")
    p.add_argument("--manifests", nargs="+", metavar="MANIFEST",
                   help="batch manifests (ocbench run-batch): their runs' records, failed ones included")
    p.add_argument("paths", nargs="*", metavar="PATH", help="metrics.json files (or @listing, one per line)")
    p.set_defaults(func=_collect)

    p = sub.add_parser("tables", help="AUROC mean ± std over seeds: auroc_summary.csv and a LaTeX table "
                                      "per (dataset, setting)")
    p.add_argument("--runs", required=True, help="runs.csv from `ocbench collect`")
    p.add_argument("--outdir", required=True)
    p.add_argument("--significance-level", type=float, default=0.05,
                   help="α of the paired test over seeds that underlines the methods not significantly worse "
                        "than a row's best (default 0.05)")
    p.set_defaults(func=_tables)

    p = sub.add_parser("ranks", help="average ranks over cells, the Friedman and a post-hoc test: ranks.csv, "
                                     "ranks_pairwise.csv, a LaTeX table and a critical-difference diagram per "
                                     "(dataset, setting) and per setting over all datasets")
    p.add_argument("--runs", required=True, help="runs.csv from `ocbench collect`")
    p.add_argument("--tables-dir", required=True, help="folder of ranks.csv, ranks_pairwise.csv and "
                                                       "ranks_{dataset}_{setting}.tex ({dataset} 'all': every dataset)")
    p.add_argument("--figures-dir", required=True, help="folder of the diagrams, {dataset}/{setting}.png")
    p.add_argument("--significance-level", type=float, default=0.05, help="α of the tests (default 0.05)")
    p.add_argument("--posthoc", default="wilcoxon_holm",
                   help="the post-hoc test: wilcoxon_holm (default) or nemenyi (docs/statistics.md)")
    p.set_defaults(func=_ranks)

    p = sub.add_parser("plot-auroc", help="heatmap of the mean AUROC over seeds per method and normal class, "
                                          "one panel per (dataset, setting)")
    p.add_argument("--runs", required=True, help="runs.csv from `ocbench collect`")
    p.add_argument("--out", required=True, help="figure file (.png, .pdf or .svg)")
    p.set_defaults(func=_plot_auroc)

    p = sub.add_parser("plot-roc", help="figure of the ROC curves of every method")
    p.add_argument("--out", required=True, help="figure file (.png, .pdf or .svg)")
    p.add_argument("--runs", help="runs.csv from `ocbench collect`: the good runs of --dataset and --setting")
    p.add_argument("--dataset")
    p.add_argument("--setting")
    p.add_argument("paths", nargs="*", metavar="PATH", help="scores.csv files (or @listing, one per line)")
    p.set_defaults(func=_plot_roc)

    p = sub.add_parser("plot-extremes", help="figure of the most normal and most anomalous test images of the "
                                             "normal class")
    p.add_argument("--prepared", required=True, help="prepared .npz of an image dataset")
    p.add_argument("--scores", help="scores.csv of one run on that dataset")
    p.add_argument("--out", help="figure file (.png, .pdf or .svg) of that run")
    p.add_argument("--runs", help="runs.csv from `ocbench collect`: one figure per good run of --dataset and "
                                  "--setting, written under --outdir")
    p.add_argument("--dataset")
    p.add_argument("--setting")
    p.add_argument("--seeds", type=int, nargs="+", help="only these seeds (default: all)")
    p.add_argument("--outdir", help="folder of the figures: {normal}/seed{seed}/{method}/{device}.png")
    p.add_argument("--n", type=int, default=32, help="images per grid (default 32)")
    p.set_defaults(func=_plot_extremes)

    p = sub.add_parser("summary", help="a Markdown summary with a comparison to the published numbers")
    p.add_argument("--runs", required=True, help="runs.csv from `ocbench collect`")
    p.add_argument("--out", required=True, help="Markdown file to write")
    p.add_argument("--settings", type=json_object, default=None,
                   help="the config's split settings as a JSON object; each comparison with a paper then "
                        "keeps to the settings of that paper's split protocol (needed for Deep SAD's γ_l)")
    p.add_argument("--comparison-dir", default=None,
                   help="folder for each paper comparison's CSV, booktabs LaTeX table and figure "
                        "({name}.csv, {name}.tex, {name}.png)")
    p.add_argument("--configuration", default=None,
                   help="the resolved configuration as YAML (written by the workflow), shown under "
                        "*Configuration*; its settings stand in for --settings when that is not given")
    p.add_argument("--snakemake-version", default=None,
                   help="Snakemake's version, for a job environment without Snakemake")
    p.add_argument("--auroc-figure", default=None,
                   help="the AUROC heatmap (`ocbench plot-auroc`), linked from the summary")
    p.add_argument("--ranks", default=None, help="ranks.csv (`ocbench ranks`): the section on ranks and tests")
    p.add_argument("--rank-figures", default=None,
                   help="the folder of the critical-difference diagrams (`ocbench ranks --figures-dir`), shown "
                        "in that section")
    p.set_defaults(func=_summary)
