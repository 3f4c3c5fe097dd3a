"""Each preset's paper beside ocbench's runs: one comparison per paper, as CSV, booktabs LaTeX and a figure.

A ``Comparison`` names the published tables it reads (``report/published.py``), the
keys of their cells besides dataset and method, the split protocol of the paper, and
how ocbench's runs are averaged into a cell:

- per cell over seeds (the Deep SVDD tables: one cell per normal class);
- over the normal classes, the known outlier classes and the seeds, as the Deep SAD
  paper averages its γ_l table (and the multi-radius and OC-NN tables, one cell per
  dataset and group size or dataset).

Every cell carries both means and stds, the difference (ocbench − published) and a flag
where the difference is larger than its threshold (``flag_threshold``), with the rule the
threshold came from (``flag_rule``): seed noise only where both sides' spreads over seeds
and counts are known; and the protocol of ocbench's runs: ``inductive`` (scored on test
images) or ``transductive`` (scored on the training images, the OC-NN authors' protocol;
``data/splits.py``). A comparison may also set a method's runs beside another method's
published numbers (``Comparison.beside``): the paper's OC-NN beside the numbers of the
authors' code.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import parse_normal
from ..errors import check_choice
from ..files import atomic_path
from .collect import method_labels
from .published import load_published
from ..data.splits import INDUCTIVE, TRANSDUCTIVE
from .tables import fit_to_page, latex_escape, short_labels

#: datasets compared with another dataset's published numbers, and why (shown in the summary)
STAND_INS = {"mnist5k": ("mnist", "mnist5k is a 5,000-digit subset of MNIST (fewer training and test "
                                   "digits than the papers used), so its comparison with the MNIST numbers "
                                   "is an indication only")}
#: the clean one-class protocol: no labels, no pollution
ONE_CLASS = {"ratio_known_normal": (0,), "ratio_known_outlier": (0,), "ratio_pollution": (0,)}
#: the flag's floor: a published mean printed with one decimal is only known to ±0.05
ROUNDING = 0.05
#: the flag's threshold where neither side has a spread
FALLBACK_THRESHOLD = 2.0
#: the flag's rules, by the name the ``flag_rule`` column gives: the threshold's formula (as text and as
#: LaTeX) and when it applies (captions, summary). σ₁, n₁: the published std and its count; σ₂, n₂:
#: ocbench's std over seeds of the cell's mean and its seeds.
SEED_NOISE, CELL_SPREAD, OUR_SPREAD_FOR_BOTH, PUBLISHED_COUNT_UNKNOWN, PUBLISHED_STD, FALLBACK = (
    "seed noise", "cell spread", "our spread for both", "published count unknown", "published std", "2 AUROC")
_TWO_MEANS = ("2·sqrt(σ₁²/n₁ + σ₂²/n₂)", r"$2\sqrt{\sigma_1^2/n_1 + \sigma_2^2/n_2}$")
FLAG_RULES = {
    SEED_NOISE: (*_TWO_MEANS, "twice the standard error of the difference of the two means, both stds over seeds"),
    CELL_SPREAD: (*_TWO_MEANS, "the paper's std over its (normal, known class) cells, which bounds its mean's "
                               "noise from above, ocbench's over its seeds"),
    OUR_SPREAD_FOR_BOTH: ("2·σ₂·sqrt(1/n₁ + 1/n₂)", r"$2\sigma_2\sqrt{1/n_1 + 1/n_2}$",
                          "the paper gives its count but no std, so ocbench's std over seeds stands for both"),
    PUBLISHED_COUNT_UNKNOWN: ("2·sqrt(σ₁² + σ₂²/n₂)", r"$2\sqrt{\sigma_1^2 + \sigma_2^2/n_2}$",
                              "the paper's count, which it does not give, taken as 1, the widest its mean's "
                              "noise can be"),
    PUBLISHED_STD: ("2·σ₁", r"$2\sigma_1$", "ocbench has one seed, no spread of its own"),
    FALLBACK: ("2", "2", "neither side has a spread"),
}
COLUMNS = ["dataset", "published_dataset", "setting", "protocol", "method", "published_method", "label",
           "published_mean", "published_std", "published_n", "published_over", "ours_mean", "ours_std", "ours_n",
           "ours_seed_std", "ours_seeds", "difference", "threshold", "flag_rule", "flagged", "table", "source"]
_KEY_HEADERS = {"normal": "Normal class", "ratio_known_outlier": r"$\gamma_l$", "n_normal_classes": "Normal classes"}


@dataclass(frozen=True)
class Comparison:
    """One paper's table against the runs: which published tables, which cell keys, which protocol."""
    name: str
    title: str
    tables: tuple[str, ...]
    keys: tuple[str, ...]
    protocol: dict = field(default_factory=dict)  # split parameter -> the values the paper's protocol allows
    over_classes: bool = False  # average over normal and known classes (and seeds), else over seeds per cell
    note: str = ""
    # runs of a method set against another method's published numbers, beside that method's own runs
    beside: dict = field(default_factory=dict)  # our method -> the published method
    published_protocol: str = INDUCTIVE  # how the published numbers were computed (named in the LaTeX table)


COMPARISONS = (
    Comparison("deep_svdd_icml2018", "Deep SVDD (Ruff et al., ICML 2018), one-class, per normal class",
               ("deep_svdd_icml2018_oneclass", "deep_svdd_pytorch_mnist"), ("normal",), ONE_CLASS,
               note="ocbench: mean ± std over seeds per normal class, runs of the clean one-class settings"),
    Comparison("deep_sad_iclr2020", "Deep SAD (Ruff et al., ICLR 2020), scenario (i): ratio of labelled "
                                    "anomalies γ_l, pollution γ_p = 0.1, one known anomaly class",
               ("deep_sad_iclr2020_labeled_ratio",), ("ratio_known_outlier",),
               {"ratio_known_normal": (0,), "ratio_pollution": (0.1,), "n_known_outlier_classes": (0, 1)},
               over_classes=True,
               note="ocbench: each (normal class, known anomaly class) averaged over its seeds, then mean ± std "
                    "over those cells, as the paper averages; the published std is a spread over classes"),
    Comparison("multi_radius", "Multi-radius Deep SVDD, groups of normal classes", ("multi_radius_mnist",),
               ("n_normal_classes",), ONE_CLASS, over_classes=True,
               note="ocbench: each normal group averaged over its seeds, then mean ± std over the groups of "
                    "that size"),
    Comparison("ocnn", "OC-NN, RCAE and DCAE (Chalapathy et al.): the authors' notebooks, per normal class",
               ("ocnn_authors_notebooks",), ("normal",), ONE_CLASS,
               note="ocbench: mean ± std over seeds per normal class. The notebooks' numbers are transductive "
                    "(scored on the training images) and their OC-NN is what the authors' code computed "
                    "(ocnn_authors_code); the paper's OC-NN (ocnn) stands beside it against the same numbers",
               beside={"ocnn": "ocnn_authors_code"}, published_protocol=TRANSDUCTIVE),
)


def comparison_named(name: str) -> Comparison:
    check_choice("comparison", name, [c.name for c in COMPARISONS])
    return next(c for c in COMPARISONS if c.name == name)


# --------------------------------------------------------------------------- the flag

def flag_threshold(published_std: float, published_n: float, ours_std: float, ours_n: float,
                   published_over: str = "seeds") -> tuple[float, str]:
    """How far ocbench's mean may lie from the published one before the cell is flagged, and the rule used.

    σ₁ and n₁ are the published std and its count (``published_over``: ``seeds``, or
    ``cells`` where the paper's std is over (normal, known class) cells); σ₂ and n₂ are
    ocbench's std over seeds of the cell's mean and the number of seeds (n₂ ≥ 2 for a std):

    - σ₁, n₁, σ₂ known: 2·sqrt(σ₁²/n₁ + σ₂²/n₂), twice the standard error of the difference
      of two means: ``seed noise`` where σ₁ is over seeds, ``cell spread`` where over cells;
    - n₁ and σ₂ known, σ₁ not: 2·σ₂·sqrt(1/n₁ + 1/n₂) (``our spread for both``);
    - σ₁ and σ₂ known, n₁ not: 2·sqrt(σ₁² + σ₂²/n₂), n₁ taken as 1 (``published count unknown``);
    - σ₁ known, σ₂ not (one seed of ocbench): 2·σ₁ (``published std``);
    - else 2 AUROC (``2 AUROC``).

    Never below ``ROUNDING`` (the published numbers are rounded). ``FLAG_RULES`` says each in words.
    """
    def known(value) -> bool:
        return value is not None and not (isinstance(value, float) and math.isnan(value))

    ours = known(ours_std) and known(ours_n) and ours_n >= 2
    count = known(published_n) and published_n >= 1
    if known(published_std) and count and ours:
        threshold = 2.0 * math.sqrt(published_std ** 2 / published_n + ours_std ** 2 / ours_n)
        rule = CELL_SPREAD if published_over == "cells" else SEED_NOISE
    elif count and ours:
        threshold, rule = 2.0 * ours_std * math.sqrt(1 / published_n + 1 / ours_n), OUR_SPREAD_FOR_BOTH
    elif known(published_std) and ours:
        threshold, rule = 2.0 * math.sqrt(published_std ** 2 + ours_std ** 2 / ours_n), PUBLISHED_COUNT_UNKNOWN
    elif known(published_std):
        threshold, rule = 2.0 * published_std, PUBLISHED_STD
    else:
        threshold, rule = FALLBACK_THRESHOLD, FALLBACK
    return max(threshold, ROUNDING), rule


def flagged_legend(rules) -> str:
    """The figure's legend for the flagged cells: "seed noise" only where each of their rules was that one."""
    return "beyond seed noise" if set(rules) == {SEED_NOISE} else "beyond its threshold"


def rules_text(rules, latex: bool = False) -> str:
    """The rules of ``rules`` (names from ``flag_rule``), each with its formula and when it applies,
    in ``FLAG_RULES`` order; ``latex``: the formulas in LaTeX math and the words escaped."""
    def one(name, formula, formula_latex, when):
        if latex:
            return f"{latex_escape(name)}, {formula_latex}: {latex_escape(when)}"
        return f"{name}, {formula}: {when}"
    return "; ".join(one(name, *rule) for name, rule in FLAG_RULES.items() if name in set(rules))


# --------------------------------------------------------------------------- ours against published

def _follows(split: dict, protocol: dict) -> bool:
    """Whether a setting is the paper's split: its values allowed, and no other dataset's anomalies."""
    if split.get("anomaly_datasets"):  # the multi-class setting against other datasets: no paper here
        return False
    return all(any(math.isclose(float(split.get(key, 0) or 0), float(v)) for v in allowed)
               for key, allowed in protocol.items())


def our_cells(runs: pd.DataFrame, comparison: Comparison, settings: dict | None = None) -> pd.DataFrame:
    """ocbench's mean, std and count of each cell of ``comparison``, and its spread over seeds.

    ``ours_std`` and ``ours_n`` are over what the cell averages last, as the paper's std
    (seeds, or the (normal, known class) cells of an ``over_classes`` comparison);
    ``ours_seed_std`` and ``ours_seeds`` are ocbench's own noise, which the flag reads: the
    cell's mean taken seed by seed, then its std and count over the seeds.

    ``settings``: the config's split settings by name. When given, only runs whose
    (base) setting follows the paper's protocol are kept, and the Deep SAD key γ_l is
    read from them; without them every setting is compared, and a comparison keyed by a
    split parameter has no cells.
    """
    ok = runs[(runs["status"].astype(str) == "ok") & runs["auroc"].notna()]
    ok = ok.assign(label=method_labels(ok) if len(ok) else pd.Series(dtype=str),
                   auroc_percent=100.0 * ok["auroc"].astype(float),
                   setting=ok["base_setting"] if "base_setting" in ok else ok["setting"],
                   published_dataset=ok["dataset"].map(lambda d: STAND_INS[d][0] if d in STAND_INS else d))
    if "known" not in ok:
        ok = ok.assign(known="")
    if settings is not None:
        splits = ok["setting"].map(settings.get)
        ok = ok[splits.map(lambda split: split is not None and _follows(split, comparison.protocol))]
        if "ratio_known_outlier" in comparison.keys:
            ok = ok.assign(ratio_known_outlier=ok["setting"].map(
                lambda s: round(float(settings[s].get("ratio_known_outlier", 0)), 6)))
    elif "ratio_known_outlier" in comparison.keys:
        ok = ok.iloc[0:0].assign(ratio_known_outlier=pd.Series(dtype=float))
    if "n_normal_classes" in comparison.keys:
        ok = ok.assign(n_normal_classes=ok["normal"].map(lambda n: float(len(parse_normal(n)))))
    group = ["dataset", "published_dataset", "setting", *comparison.keys, "method", "label"]
    if comparison.over_classes:
        inner = [k for k in ("normal", "known") if k not in group]
        values = ok.groupby(group + inner, sort=False)["auroc_percent"].mean().reset_index()
    else:
        values = ok
    cells = values.groupby(group, sort=False)["auroc_percent"].agg(
        ours_mean="mean", ours_std=lambda v: v.std(ddof=1), ours_n="count")
    per_seed = ok.groupby(group + ["seed"], sort=False)["auroc_percent"].mean().reset_index()
    noise = per_seed.groupby(group, sort=False)["auroc_percent"].agg(
        ours_seed_std=lambda v: v.std(ddof=1), ours_seeds="count")
    return cells.join(noise).reset_index()


def compare(runs: pd.DataFrame, comparison: Comparison, settings: dict | None = None,
            published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cells of ``comparison`` that both ocbench and the published tables have: ``COLUMNS`` plus its keys."""
    published = load_published() if published is None else published
    reference = published[published["table"].isin(comparison.tables)].rename(columns={
        "dataset": "published_dataset", "auc_mean": "published_mean", "auc_std": "published_std"})
    # the count of the published std, over seeds or over (normal, known class) cells (report/published.py)
    over_cells = reference["n_cells"].notna()
    reference = reference.assign(published_n=reference["n_cells"].where(over_cells, reference["n_seeds"]),
                                 published_over=["cells" if c else ("seeds" if pd.notna(n) else "")
                                                 for c, n in zip(over_cells, reference["n_seeds"])])
    if "ratio_known_outlier" in comparison.keys:
        reference = reference.assign(ratio_known_outlier=reference["ratio_known_outlier"].round(6))
    reference = reference.rename(columns={"method": "published_method"})
    ours = _with_protocol(_with_published_method(our_cells(runs, comparison, settings), comparison), runs, settings)
    merged = ours.merge(reference, on=["published_dataset", *comparison.keys, "published_method"], how="inner")
    if merged.empty:
        return pd.DataFrame(columns=_columns(comparison))
    thresholds = [flag_threshold(r.published_std, r.published_n, r.ours_seed_std, r.ours_seeds, r.published_over)
                  for r in merged.itertuples()]
    merged = merged.assign(difference=merged["ours_mean"] - merged["published_mean"],
                           threshold=[t for t, _ in thresholds], flag_rule=[rule for _, rule in thresholds])
    merged["flagged"] = merged["difference"].abs() > merged["threshold"]
    return merged[_columns(comparison)].reset_index(drop=True)


def _with_published_method(cells: pd.DataFrame, comparison: Comparison) -> pd.DataFrame:
    """``cells`` with ``published_method``, the method whose published numbers each cell meets: its own,
    or the one ``comparison.beside`` names, its label then saying so (``ocnn vs ocnn_authors_code``)."""
    published = cells["method"].map(lambda m: comparison.beside.get(m, m))
    label = cells["label"].where(published == cells["method"], cells["label"] + " vs " + published)
    return cells.assign(published_method=published, label=label)


def _with_protocol(cells: pd.DataFrame, runs: pd.DataFrame, settings: dict | None) -> pd.DataFrame:
    """``cells`` with the ``protocol`` of their setting: the config's (a ``transductive`` block), else what
    the runs recorded (runs.csv's ``protocol``), else inductive."""
    recorded = {}
    if "protocol" in runs and len(runs):
        setting = runs["base_setting"] if "base_setting" in runs else runs["setting"]
        recorded = runs.assign(setting=setting).dropna(subset=["protocol"]).groupby("setting")["protocol"].first()
        recorded = recorded.to_dict()

    def protocol(setting):
        if settings is not None and setting in settings:
            return TRANSDUCTIVE if settings[setting].get("transductive") is not None else INDUCTIVE
        return recorded.get(setting, INDUCTIVE)

    return cells.assign(protocol=cells["setting"].map(protocol) if len(cells) else pd.Series(dtype=str))


def _columns(comparison: Comparison) -> list[str]:
    at = COLUMNS.index("method")
    return COLUMNS[:at] + list(comparison.keys) + COLUMNS[at:]


def compare_all(runs: pd.DataFrame, settings: dict | None = None,
                published: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every comparison that has at least one cell, by name."""
    published = load_published() if published is None else published
    results = {c.name: compare(runs, c, settings, published) for c in COMPARISONS}
    return {name: rows for name, rows in results.items() if not rows.empty}


# --------------------------------------------------------------------------- LaTeX

def _mean_std(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "--"
    return f"{mean:.1f}" if math.isnan(std) else f"{mean:.1f}$\\pm${std:.1f}"


def _key_text(key: str, value) -> str:
    if key == "ratio_known_outlier":
        return f"{value:.2f}"
    if key == "n_normal_classes":
        return str(int(value))
    return str(value)


def _printed(value: float) -> str:
    """A published number as its source prints it: one or two decimals."""
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def published_text(mean: float, std: float, plus_minus: str = " ± ") -> str:
    """A published mean ± std as its source prints them (the std left out where it gives none)."""
    return _printed(mean) if math.isnan(std) else f"{_printed(mean)}{plus_minus}{_printed(std)}"


def latex_comparison(comparison: Comparison, rows: pd.DataFrame) -> str:
    """A booktabs table: published mean ± std, ocbench's mean ± std, the difference, and the threshold
    with the rule it came from; a flagged difference is bold with a star, and the caption says the rules
    of the table's rows only. Methods go by their short names and the table shrinks to fit the page, as
    in ``tables.latex_table``. Needs ``\\usepackage{booktabs,graphicx}``."""
    several = rows["table"].nunique() > 1
    labels = short_labels(rows)
    protocols = _shows_protocol(comparison, rows)
    headers = ["Dataset", *(["Protocol"] if protocols else []), *(_KEY_HEADERS.get(k, k) for k in comparison.keys),
               "Method"]
    headers += ["Published", "ocbench", r"$\Delta$", "Flag at"] + (["Source"] if several else [])
    lines = [
        "% published against ocbench, written by `ocbench summary`; needs \\usepackage{booktabs,graphicx}",
        r"\begin{table}[t]",
        r"\centering",
        f"\\caption{{{latex_escape(comparison.title)}: test AUROC (\\%), published mean $\\pm$ std against "
        r"ocbench's mean $\pm$ std; $\Delta$ is ocbench minus published, in bold with a star where it exceeds "
        f"the row's threshold (Flag at: the threshold and its rule; {rules_text(rows['flag_rule'], latex=True)}; "
        r"$\sigma_1, n_1$: the published std and its count, $\sigma_2, n_2$: ocbench's std over seeds and its "
        r"seeds)."
        + (_protocol_caption(comparison) if protocols else "") + "}",
        f"\\label{{tab:published-{comparison.name}}}",
    ]
    tabular = [
        f"\\begin{{tabular}}{{{'l' * (2 + protocols + len(comparison.keys))}cccl{'l' if several else ''}}}",
        r"\toprule",
        " & ".join(headers) + r" \\",
        r"\midrule",
    ]
    for row, label in zip(rows.itertuples(), labels):
        dataset = row.dataset if row.dataset == row.published_dataset else f"{row.dataset} (vs {row.published_dataset})"
        delta = f"{row.difference:+.1f}"
        cells = [latex_escape(dataset), *([row.protocol] if protocols else []),
                 *(latex_escape(_key_text(k, getattr(row, k))) for k in comparison.keys),
                 latex_escape(label), published_text(row.published_mean, row.published_std, r"$\pm$"),
                 _mean_std(row.ours_mean, row.ours_std),
                 f"\\textbf{{{delta}}}$^{{*}}$" if row.flagged else delta,
                 f"{row.threshold:.1f} {latex_escape(row.flag_rule)}"]
        if several:
            cells.append(latex_escape(row.table))
        tabular.append(" & ".join(cells) + r" \\")
    lines += fit_to_page(tabular + [r"\bottomrule", r"\end{tabular}"]) + [r"\end{table}"]
    return "\n".join(lines) + "\n"


def _shows_protocol(comparison: Comparison, rows: pd.DataFrame) -> bool:
    """Whether the table names the protocols: where the published numbers or some runs are not inductive."""
    return comparison.published_protocol != INDUCTIVE or bool((rows["protocol"] != INDUCTIVE).any())


def _protocol_caption(comparison: Comparison) -> str:
    return (f" The published numbers are {comparison.published_protocol}; Protocol is ocbench's (transductive: "
            "scored on the training images, inductive: on test images).")


# --------------------------------------------------------------------------- figure

def plot_comparison(comparison: Comparison, rows: pd.DataFrame, out) -> None:
    """ocbench's mean against the published mean, one point per cell with both error bars (std),
    the identity line, flagged cells ringed in red."""
    from .plots import check_figure_path, plt  # here: the workflow reads the summary's modules without matplotlib

    out = check_figure_path(out)
    figure, axis = plt.subplots(figsize=(5.5, 5.0))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, of_method) in enumerate(rows.groupby("label", sort=False)):
        axis.errorbar(of_method["published_mean"], of_method["ours_mean"],
                      xerr=of_method["published_std"].fillna(0), yerr=of_method["ours_std"].fillna(0),
                      fmt="o", color=colours[i % len(colours)], label=label, capsize=2, markersize=5)
    flagged = rows[rows["flagged"]]
    if len(flagged):
        axis.scatter(flagged["published_mean"], flagged["ours_mean"], s=160, facecolors="none",
                     edgecolors="red", linewidths=1.5, label=flagged_legend(flagged["flag_rule"]), zorder=3)
    values = pd.concat([rows["published_mean"], rows["ours_mean"]])
    low, high = float(values.min()) - 3, float(values.max()) + 3
    axis.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1, label="identity")
    axis.set(xlim=(low, high), ylim=(low, high), xlabel="published AUROC (%)", ylabel="ocbench AUROC (%)")
    axis.set_title("\n".join(textwrap.wrap(comparison.title, 60)), fontsize=9)
    axis.set_aspect("equal")
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    figure.savefig(out, dpi=120, bbox_inches="tight", format=out.suffix.lower().lstrip("."))
    plt.close(figure)


# --------------------------------------------------------------------------- files

def write_comparisons(results: dict[str, pd.DataFrame], outdir) -> list[Path]:
    """``{name}.csv``, ``{name}.tex`` and ``{name}.png`` of each comparison in ``outdir``; the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in results.items():
        comparison = comparison_named(name)
        with atomic_path(outdir / f"{name}.csv") as tmp:
            rows.to_csv(tmp, index=False)
        with atomic_path(outdir / f"{name}.tex") as tmp:
            tmp.write_text(latex_comparison(comparison, rows), encoding="utf-8")
        with atomic_path(outdir / f"{name}.png") as tmp:
            plot_comparison(comparison, rows, tmp)
        written += [outdir / f"{name}.{suffix}" for suffix in ("csv", "tex", "png")]
    return written
