"""A Markdown summary of the runs, with each preset's comparison to its paper (``comparison.py``), the
configuration the workflow resolved and the versions of the software."""
from __future__ import annotations

import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from ..code_version import code_version
from ..data.splits import INDUCTIVE
from ..errors import OcbenchError
from ..files import atomic_path, one_line
from .collect import RUN_KEYS, method_labels
from .comparison import COMPARISONS, STAND_INS, compare_all, published_text, rules_text, write_comparisons
from .rank_layout import rank_figure_name
from .ranks import ranks_markdown, read_ranks
from .tables import markdown_table


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
    # The reason is one line by construction (jobs.failures); a '|' would split its cell.
    reasons = failed["reason"] if "reason" in failed else pd.Series("", index=failed.index)
    rows = [[*(row[k] for k in RUN_KEYS), row["status"], str(reason).replace("|", "/")]
            for (_, row), reason in zip(failed.iterrows(), reasons.fillna(""))]
    return ["## Failed runs", "",
            "These runs have no AUROC (a dash in the tables); a previous good result of the same run, if any, "
            "is still in its run directory beside the `failed.json` record.", "",
            markdown_table(RUN_KEYS + ["status", "reason"], rows), ""]


def _per_dataset(runs: pd.DataFrame, figure: str | None = None) -> list[str]:
    lines = ["## Mean test AUROC (%)", "",
             "Per dataset and setting, each method's AUROC averaged over the normal classes, the known "
             "anomaly classes (a setting with one split per known class, `<setting>.k<class>`) and the seeds; "
             "*runs* counts the runs with an AUROC, *train time* is their sum.", ""]
    if figure:
        lines += [f"Per normal class: [the AUROC heatmap]({figure}), each method's mean over the seeds.", "",
                  f"![Mean test AUROC (%) per method and normal class]({figure})", ""]
    runs = runs.assign(label=method_labels(runs), auroc_percent=100.0 * runs["auroc"].astype(float))
    setting_of = runs["base_setting"] if "base_setting" in runs else runs["setting"]
    for (dataset, setting), group in runs.groupby([runs["dataset"], setting_of], sort=False):
        rows = []
        for label, of_method in group.groupby("label", sort=False):
            mean = of_method["auroc_percent"].mean()
            rows.append([label, "–" if math.isnan(mean) else f"{mean:.1f}",
                         int(of_method["auroc_percent"].count()), f"{of_method['train_time_s'].sum():.1f}"])
        lines += [f"### {dataset} / {setting}", "",
                  markdown_table(["method", "mean AUROC (%)", "runs", "train time (s)"], rows), ""]
    return lines


def _comparison_section(comparison, rows: pd.DataFrame) -> list[str]:
    flagged = int(rows["flagged"].sum())
    lines = [f"### {comparison.title}", "",
             f"{comparison.note}. {len(rows)} cells, {flagged} flagged: the difference exceeds the row's "
             f"*threshold*, by the rule in brackets beside it ({rules_text(rows['flag_rule'])}; σ₁, n₁: the "
             "published std and its count, σ₂, n₂: ocbench's std over seeds and its seeds).", ""]
    for dataset in pd.unique(rows["dataset"]):
        if dataset in STAND_INS:
            lines += [f"**{dataset} vs {STAND_INS[dataset][0]}**: {STAND_INS[dataset][1]}.", ""]
    keys = [k for k in ("normal", "ratio_known_outlier", "n_normal_classes") if k in rows.columns]
    table = []
    for row in rows.itertuples():
        name = row.dataset if row.dataset == row.published_dataset else \
            f"{row.dataset} (vs {row.published_dataset}, indication only)"
        key_cells = [f"{getattr(row, k):.2f}" if k == "ratio_known_outlier" else
                     str(int(getattr(row, k))) if k == "n_normal_classes" else str(getattr(row, k)) for k in keys]
        setting = row.setting if getattr(row, "protocol", INDUCTIVE) == INDUCTIVE else \
            f"{row.setting} ({row.protocol})"
        table.append([name, setting, *key_cells, row.label,
                      f"{_mean_std(row.ours_mean, row.ours_std)} (n={row.ours_n})",
                      published_text(row.published_mean, row.published_std), f"{row.difference:+.1f}",
                      f"{row.threshold:.1f} ({row.flag_rule})", "**yes**" if row.flagged else "no", row.source])
    headers = ["dataset", "setting", *keys, "method", "ocbench", "published", "difference", "threshold",
               "flagged", "source"]
    return lines + [markdown_table(headers, table), ""]


def _comparison(results: dict[str, pd.DataFrame], settings: dict | None) -> list[str]:
    lines = ["## Comparison with published numbers", ""]
    if not results:
        return lines + ["No run matches a published result (same dataset, split protocol, class and method).", ""]
    lines += ["Test AUROC (%): ocbench's mean ± std beside the published mean ± std (a blank std: the source "
              "gives none); *difference* is ocbench minus published. Each comparison is also written as CSV, "
              "booktabs LaTeX and a figure (ocbench against published, one point per cell)."]
    if settings is None:
        lines += ["The split settings were not given, so every setting is compared and the comparisons keyed by "
                  "a split parameter (Deep SAD's γ_l) are left out."]
    lines.append("")
    for comparison in COMPARISONS:
        if comparison.name in results:
            lines += _comparison_section(comparison, results[comparison.name])
    return lines


# --------------------------------------------------------------------------- configuration and versions

#: the distributions whose versions the summary names, read from their metadata (nothing is imported)
REPORTED_PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn", "snakemake")


def software_versions(snakemake_version: str | None = None) -> dict[str, str]:
    """Python's version, each of ``REPORTED_PACKAGES``' (``not installed`` where absent) and ocbench's
    ``code_version``. ``snakemake_version``: Snakemake's, given by the workflow, whose jobs may run in
    an environment without Snakemake."""
    versions = {"python": platform.python_version()}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    if snakemake_version:
        versions["snakemake"] = snakemake_version
    versions["ocbench code_version"] = code_version()
    return versions


#: config keys that say where the jobs ran, not what they computed: left out of the reported
#: configuration, so that moving a run to other partitions does not rewrite the report
EXECUTION_KEYS = ("cluster",)


def reported_configuration(config: dict) -> dict:
    """The configuration the report shows: every key that decides the results (``EXECUTION_KEYS`` left out)."""
    return {key: value for key, value in config.items() if key not in EXECUTION_KEYS}


def configuration_yaml(config: dict) -> str:
    """``config`` as YAML in its own key order, short lists on one line (tuples written as lists)."""
    plain = json.loads(json.dumps(config))  # tuples and other sequences become lists yaml can write safely
    return yaml.safe_dump(plain, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100)


def write_configuration(out, config: dict) -> None:
    """Write ``configuration_yaml(config)`` to ``out`` (a failed write leaves no half file)."""
    with atomic_path(out) as tmp:
        tmp.write_text(configuration_yaml(config), encoding="utf-8")


def read_configuration(path) -> dict:
    """A configuration written by ``write_configuration``."""
    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise OcbenchError(f"configuration file {path} is not readable YAML ({one_line(err)}); "
                           "make it again with the workflow") from None
    if not isinstance(config, dict):
        raise OcbenchError(f"configuration file {path} must hold a mapping, got {type(config).__name__}")
    return config


def _configuration(config: dict | None, versions: dict[str, str]) -> list[str]:
    lines = ["## Configuration", "",
             "The software that made this summary (the versions each run used are in its `metrics.json`):", "",
             markdown_table(["software", "version"], [[name, f"`{value}`"] for name, value in versions.items()]),
             ""]
    if config is None:
        return lines + ["The configuration was not given (`ocbench summary --configuration`).", ""]
    return lines + ["The configuration as the workflow resolved it, every default filled:", "",
                    "```yaml", configuration_yaml(config).rstrip(), "```", ""]


# --------------------------------------------------------------------------- the summary

def summary_markdown(runs: pd.DataFrame, settings: dict | None = None,
                     published: pd.DataFrame | None = None, results: dict | None = None,
                     config: dict | None = None, versions: dict[str, str] | None = None,
                     auroc_figure: str | None = None, ranks: pd.DataFrame | None = None,
                     rank_figure=None) -> str:
    """The summary as Markdown text. ``settings``: the config's split settings by name; when
    given, each comparison keeps to the runs of its paper's split protocol. ``results``: the
    comparisons (``comparison.compare_all``), computed here when not given. ``config``: the
    resolved configuration, shown under *Configuration* with ``versions`` (``software_versions()``
    when not given). ``auroc_figure``: the AUROC heatmap's path relative to the summary, linked
    and shown under the mean AUROCs. ``ranks``: ``ranks.csv`` (``ranks.write_ranks``), its section
    after the mean AUROCs, with the diagram of each group at ``rank_figure(scope, setting)`` when given."""
    if results is None:
        results = compare_all(runs, settings, published)
    versions = software_versions() if versions is None else versions
    rank_lines = [] if ranks is None else ranks_markdown(ranks, rank_figure)
    lines = ["# ocbench results", "", *_overview(runs), "", *_failed(runs), *_per_dataset(runs, auroc_figure),
             *rank_lines, *_comparison(results, settings), *_configuration(config, versions)]
    return "\n".join(lines).rstrip() + "\n"


def write_summary(runs: pd.DataFrame, out, settings: dict | None = None, comparison_dir=None,
                  config: dict | None = None, snakemake_version: str | None = None, auroc_figure=None,
                  ranks=None, rank_figures=None) -> None:
    """Write ``summary_markdown`` to ``out`` (a failed write leaves no half file), and each comparison's
    CSV, LaTeX table and figure to ``comparison_dir`` when given. Without ``settings``, those of
    ``config`` (when given) decide which runs each comparison keeps. ``auroc_figure``: the path of
    the AUROC heatmap (``plots.plot_auroc``), linked from the summary by its path relative to ``out``.
    ``ranks``: the path of ``ranks.csv``, and ``rank_figures`` the folder of its diagrams."""
    if settings is None and config is not None:
        settings = config.get("settings")
    results = compare_all(runs, settings)
    if comparison_dir is not None:
        write_comparisons(results, comparison_dir)
    def relative(path) -> str:
        return Path(os.path.relpath(Path(path).resolve(), Path(out).resolve().parent)).as_posix()

    def rank_figure(scope, setting):
        return relative(Path(rank_figures) / rank_figure_name(scope, setting))

    rank_table = None if ranks is None else read_ranks(ranks)
    text = summary_markdown(runs, settings, results=results, config=config,
                            versions=software_versions(snakemake_version),
                            auroc_figure=None if auroc_figure is None else relative(auroc_figure),
                            ranks=rank_table, rank_figure=None if rank_figures is None else rank_figure)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
