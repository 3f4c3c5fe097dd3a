"""Figures: the AUROC overview, ROC curves, and the most normal and most anomalous test images.

Every ``plot_*`` function draws a new figure and saves it to ``out`` (the format follows
the suffix: .png, .pdf or .svg); nothing is shown on screen.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # jobs run without a display; must precede the pyplot import

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..config import parse_normal  # noqa: E402
from ..data.prepared import load_prepared  # noqa: E402
from ..errors import OcbenchError  # noqa: E402
from .collect import method_labels, read_metrics, read_scores, run_keys  # noqa: E402
from .tables import short_labels  # noqa: E402

FIGURE_FORMATS = (".png", ".pdf", ".svg")
GRID_COLUMNS = 8  # images per row of an extremes grid, as the Deep SVDD reference draws them
DPI = 120


def check_figure_path(out) -> Path:
    out = Path(out)
    if out.suffix.lower() not in FIGURE_FORMATS:
        raise OcbenchError(f"figure file {out} must end with one of {', '.join(FIGURE_FORMATS)}")
    return out


def _save(figure, out) -> None:
    out = check_figure_path(out)
    figure.savefig(out, dpi=DPI, bbox_inches="tight", format=out.suffix.lower().lstrip("."))
    plt.close(figure)


# --------------------------------------------------------------------------- AUROC overview

HEATMAP_CELL = 0.55  # inches per cell: room for "99.9" at the annotations' font size
HEATMAP_COLOURS = (50.0, 100.0)  # AUROC (%) from chance to perfect; below chance gets the darkest colour
FAILED_TEXT = "–"  # a cell with a failed run, as the LaTeX tables show it
HEATMAP_MIN_WIDTH = 6.0  # inches of panels side by side before a new row starts (if the panels fill them)
HEATMAP_GAP = 0.4  # inches between panels side by side


def auroc_cells(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean test AUROC (%) per panel (``dataset / setting``), method and normal class.

    The mean is over the seeds (and over the known outlier classes of a setting with one
    split per known class, ``<setting>.k<class>``, whose runs share their base setting's
    panel). ``failed`` marks a cell with at least one failed run, whose mean is left out
    (NaN) as the LaTeX tables leave it out. ``label`` is the method's short name
    (``tables.short_labels``); rows keep the order of ``runs``.
    """
    setting = runs["base_setting"] if "base_setting" in runs else runs["setting"]
    data = runs.assign(panel=runs["dataset"] + " / " + setting, label=method_labels(runs),
                       auroc_percent=100.0 * runs["auroc"].astype(float),
                       failed=runs["status"].astype(str) != "ok")
    data = data.assign(label=short_labels(data))
    grouped = data.groupby(["panel", "label", "normal"], sort=False)
    cells = grouped["auroc_percent"].mean().to_frame("auroc_mean").join(grouped["failed"].any()).reset_index()
    cells.loc[cells["failed"], "auroc_mean"] = math.nan
    return cells


def auroc_heatmap(runs: pd.DataFrame):
    """The AUROC overview as a figure: one heatmap per (dataset, setting), methods (short names) down,
    normal classes across, the mean AUROC (%) over seeds printed in each cell (``auroc_cells``)."""
    cells = auroc_cells(runs)
    if cells["auroc_mean"].isna().all() and not cells["failed"].any():
        raise OcbenchError("no run has an AUROC to plot (all had single-class test sets)")
    grids = {}
    for panel, part in cells.groupby("panel", sort=False):
        normals = sorted(pd.unique(part["normal"]), key=parse_normal)
        labels = list(pd.unique(part["label"]))
        grids[panel] = (part.pivot(index="label", columns="normal", values="auroc_mean").reindex(
                            index=labels, columns=normals),
                        part.pivot(index="label", columns="normal", values="failed").reindex(
                            index=labels, columns=normals).fillna(False).astype(bool))
    # Laid out in inches, so that every cell is the same square whatever a panel's shape
    # (a tabular set's single class stays one narrow column), and narrow panels side by side
    # in rows no wider than the widest panel (or HEATMAP_MIN_WIDTH).
    label_width = 0.2 + 0.075 * max(len(label) for label in cells["label"])
    widths = {panel: label_width + means.shape[1] * HEATMAP_CELL for panel, (means, _) in grids.items()}
    all_in_one_line = sum(widths.values()) + HEATMAP_GAP * (len(widths) - 1)
    line_width = max(min(HEATMAP_MIN_WIDTH, all_in_one_line), *widths.values())
    lines = [[]]
    for panel in grids:
        if lines[-1] and sum(widths[p] + HEATMAP_GAP for p in lines[-1]) + widths[panel] > line_width:
            lines.append([])
        lines[-1].append(panel)
    title, below, heading = 0.35, 0.6, 0.45  # a panel's title, its class ticks and axis name, the figure's title
    line_heights = [title + max(grids[p][0].shape[0] for p in line) * HEATMAP_CELL + below for line in lines]
    width, height = line_width + 1.1, heading + sum(line_heights)
    cmap = plt.get_cmap("viridis")
    norm = Normalize(*HEATMAP_COLOURS)
    figure = plt.figure(figsize=(width, height))
    top = height - heading
    for line, line_height in zip(lines, line_heights):
        left = 0.0
        for panel in line:
            means, failed = grids[panel]
            n_rows, n_columns = means.shape
            bottom = top - title - n_rows * HEATMAP_CELL
            axis = figure.add_axes([(left + label_width) / width, bottom / height, n_columns * HEATMAP_CELL / width,
                                    n_rows * HEATMAP_CELL / height])
            sns.heatmap(means, ax=axis, annot=True, fmt=".1f", annot_kws={"fontsize": 8}, cmap=cmap, norm=norm,
                        cbar=False, linewidths=0.5, linecolor="white", xticklabels=True, yticklabels=True)
            for row, column in zip(*np.nonzero(failed.to_numpy())):
                axis.text(column + 0.5, row + 0.5, FAILED_TEXT, ha="center", va="center", fontsize=8)
            axis.set_facecolor("#eeeeee")  # a cell no run reached
            axis.set_title(panel, fontsize=10)
            axis.set_xlabel("normal class")
            axis.set_ylabel("")
            axis.tick_params(axis="y", rotation=0)
            axis.tick_params(axis="x", rotation=0 if n_columns <= 10 else 90)
            left += widths[panel] + HEATMAP_GAP
        top -= line_height
    bar_height = min(3.0, line_heights[0] - title - below)
    bar = figure.add_axes([(line_width + 0.3) / width, (height - heading - title - bar_height) / height,
                           0.15 / width, bar_height / height])
    figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=bar, extend="min", label="test AUROC (%)")
    failures = f"; {FAILED_TEXT}: a run of the cell failed" if cells["failed"].any() else ""
    figure.suptitle(f"Mean test AUROC (%) over seeds{failures}", x=0.5, y=1 - 0.15 / height, fontsize=11)
    return figure


def plot_auroc(runs: pd.DataFrame, out) -> None:
    """Save the AUROC overview (``auroc_heatmap``) to ``out``."""
    _save(auroc_heatmap(runs), out)


# --------------------------------------------------------------------------- critical difference

def plot_critical_difference(labels: list[str], average_ranks: np.ndarray, p_values: np.ndarray | None,
                             significance_level: float, critical_difference: float, title: str, note: str,
                             out) -> None:
    """A critical-difference diagram in Demšar's (2006) style, drawn by scikit-posthocs: the methods
    on an axis of average ranks (1, the best, on the left), a bar under the methods that are not
    significantly different by ``p_values`` (``None`` where nothing was tested: no bar), and
    Nemenyi's critical difference above the axis where it is given (not NaN). ``note`` says which
    test ran, or why none did."""
    import scikit_posthocs as sp

    ranks = pd.Series(np.asarray(average_ranks, dtype=float), index=list(labels))
    height = 1.2 + 0.3 * max(1, math.ceil(len(ranks) / 2) + 2)
    figure, axis = plt.subplots(figsize=(7.5, height))
    if ranks.empty or ranks.isna().any():
        axis.axis("off")
        axis.text(0.5, 0.5, note, ha="center", va="center", transform=axis.transAxes)
    else:
        # A p-value of 0 for every pair draws no bar: nothing is claimed equal without a test.
        p = np.zeros((len(ranks), len(ranks))) if p_values is None else np.asarray(p_values, dtype=float)
        sp.critical_difference_diagram(ranks, pd.DataFrame(p, index=ranks.index, columns=ranks.index),
                                       alpha=significance_level, ax=axis,
                                       label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
                                       label_props={"fontsize": 9})
        axis.set_xlim(0.5, max(len(ranks), 2) + 0.5)
        axis.set_xticks(range(1, len(ranks) + 1))
        axis.set_xlabel(note, fontsize=8)
        if not math.isnan(critical_difference):  # above the rank labels, from rank 1 as Demšar draws it
            bottom, _ = axis.get_ylim()
            axis.set_ylim(bottom, 2.2)
            axis.plot([1, 1 + critical_difference], [1.6, 1.6], color="k", linewidth=2)
            axis.plot([1, 1], [1.45, 1.75], [1 + critical_difference] * 2, [1.45, 1.75], color="k", linewidth=1)
            axis.text(1 + critical_difference / 2, 1.8, f"CD = {critical_difference:.2f}", ha="center",
                      va="bottom", fontsize=9)
    axis.set_title(f"{title}: average rank", fontsize=10, pad=22)
    _save(figure, out)


# --------------------------------------------------------------------------- ROC curves

def _run_of_scores(path) -> dict:
    """The keys of the run that wrote ``path``: from the metrics.json beside it, else from the path."""
    path = Path(path)
    metrics_path = path.with_name("metrics.json")
    metrics = read_metrics(metrics_path) if metrics_path.is_file() else {}
    return run_keys(metrics, path)


def plot_roc(score_paths, out, *, panel: str | None = None) -> None:
    """ROC curves of every method: one panel per method, one curve per (normal classes, seed),
    coloured by the normal classes.

    ``panel`` names the (dataset, setting) whose good runs ``score_paths`` are: when it has
    none (every run failed), the figure says so, and the report goes on to list the failures
    (``summary.md``) instead of stopping here.
    """
    from sklearn.metrics import auc, roc_curve  # here: the other figures need no scikit-learn

    paths = [Path(p) for p in score_paths]
    if not paths:
        if panel is None:
            raise OcbenchError("no scores.csv files given; pass at least one path (or @listing)")
        _save(_no_curve_figure(f"ROC curves on {panel}: no run finished\n(summary.md lists the failed runs)"), out)
        return
    runs = pd.DataFrame([{**_run_of_scores(p), "path": p} for p in paths])
    runs["panel"] = method_labels(runs)
    pairs = list(pd.unique(runs["dataset"] + " (" + runs["setting"] + ")"))
    if len(pairs) > 1:  # the workflow draws one (dataset, setting) per figure; name it per panel otherwise
        runs["panel"] = runs["panel"] + "\n" + runs["dataset"] + " (" + runs["setting"] + ")"
    panels = list(pd.unique(runs["panel"]))
    normals = sorted(pd.unique(runs["normal"]), key=parse_normal)
    palette = dict(zip(normals, sns.color_palette("tab10" if len(normals) <= 10 else "husl", len(normals))))

    n_cols = min(len(panels), 3)
    n_rows = math.ceil(len(panels) / n_cols)
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols, 3.6 * n_rows), squeeze=False,
                                sharex=True, sharey=True)
    for axis, panel in zip(axes.flat, panels):
        aurocs = []
        for run in runs[runs["panel"] == panel].itertuples():
            scores = read_scores(run.path)
            if scores["label"].nunique() < 2:  # a ROC curve needs both classes
                continue
            fpr, tpr, _ = roc_curve(scores["label"], scores["score"])
            aurocs.append(auc(fpr, tpr))
            axis.plot(fpr, tpr, color=palette[run.normal], linewidth=1.0, alpha=0.7)
        axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
        mean = f"mean AUROC {100 * np.mean(aurocs):.1f}%" if aurocs else "no ROC curve"
        axis.set_title(f"{panel}\n{mean}", fontsize=10)
        axis.set_aspect("equal")
    for axis in axes.flat[len(panels):]:
        axis.set_visible(False)
    for axis in axes[-1, :]:
        axis.set_xlabel("false positive rate")
    for axis in axes[:, 0]:
        axis.set_ylabel("true positive rate")
    handles = [plt.Line2D([], [], color=palette[n], label=n) for n in normals]
    figure.legend(handles=handles, title="normal class", loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False)
    where = f" on {pairs[0]}" if len(pairs) == 1 else ""
    figure.suptitle(f"ROC curves{where}: one curve per normal class and seed")
    figure.tight_layout()
    _save(figure, out)


def _no_curve_figure(text: str):
    figure, axis = plt.subplots(figsize=(4.8, 1.6))
    axis.text(0.5, 0.5, text, ha="center", va="center", fontsize=11)
    axis.set_axis_off()
    return figure


# --------------------------------------------------------------------------- extremes

def extreme_indices(scores: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Test indices of the ``n`` lowest-scored and the ``n`` highest-scored samples of the normal class.

    Only samples labelled 0 count, as in the Deep SVDD reference, which shows how the
    model ranks the normal class itself. The first array runs from the most normal
    (lowest score) up, the second from the most anomalous (highest score) down; ties
    keep the order of ``scores``. Fewer than ``n`` normal samples give shorter arrays.
    """
    if n < 1:
        raise OcbenchError(f"number of extreme images must be at least 1, got {n}")
    normal = scores[scores["label"] == 0]
    ascending = normal["index"].to_numpy()[np.argsort(normal["score"].to_numpy(), kind="stable")]
    descending = normal["index"].to_numpy()[np.argsort(-normal["score"].to_numpy(), kind="stable")]
    return ascending[:n], descending[:n]


def image_grid(images: np.ndarray, n_columns: int = GRID_COLUMNS, padding: int = 2) -> np.ndarray:
    """Tile ``N×C×H×W`` uint8 images into one ``H'×W'×C`` picture, row by row, white between tiles."""
    count, channels, height, width = images.shape
    n_rows = max(1, math.ceil(count / n_columns))
    grid = np.full((n_rows * (height + padding) + padding, n_columns * (width + padding) + padding, channels),
                   255, dtype=np.uint8)
    for i, image in enumerate(images):
        row, column = divmod(i, n_columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[top:top + height, left:left + width] = image.transpose(1, 2, 0)
    return grid


def _show(axis, grid: np.ndarray, title: str) -> None:
    if grid.shape[2] == 1:
        axis.imshow(grid[:, :, 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        axis.imshow(grid, interpolation="nearest")
    axis.set_title(title)
    axis.set_axis_off()


def plot_extremes(prepared_path, scores_path, out, n: int = 32) -> None:
    """One figure with two grids of test images of the normal class: the ``n`` most normal
    (lowest scores) and the ``n`` most anomalous (highest scores)."""
    arrays = load_prepared(prepared_path)
    if "x_test" not in arrays:
        raise OcbenchError(f"prepared dataset {prepared_path} is tabular; the extremes figure is drawn for "
                           "image datasets only")
    images = arrays["x_test"]
    if _is_transductive(scores_path):  # its indices point into the training images, then the test images
        from ..data.splits import pooled_images
        images = pooled_images(arrays)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise OcbenchError(f"prepared dataset {prepared_path}: x_test must be N×C×H×W with 1 or 3 channels, "
                           f"got {images.shape}")
    scores = read_scores(scores_path)
    # Only the normal samples are drawn, and only they index this dataset's test images
    # (the anomalies of the multi-class setting index another dataset's).
    normal_index = scores.loc[scores["label"] == 0, "index"]
    if len(normal_index) and (normal_index.min() < 0 or normal_index.max() >= len(images)):
        raise OcbenchError(f"scores file {scores_path} indexes up to {normal_index.max()} but {prepared_path} "
                           f"holds {len(images)} test images; they belong to different datasets")
    lowest, highest = extreme_indices(scores, n)
    if len(lowest) == 0:
        raise OcbenchError(f"scores file {scores_path} holds no sample of the normal class (label 0)")

    n_rows = math.ceil(len(lowest) / GRID_COLUMNS)
    figure, axes = plt.subplots(1, 2, figsize=(2 * 0.75 * GRID_COLUMNS + 1, 0.75 * n_rows + 1.2))
    _show(axes[0], image_grid(images[lowest]), f"most normal (lowest {len(lowest)} scores)")
    _show(axes[1], image_grid(images[highest]), f"most anomalous (highest {len(highest)} scores)")
    keys = _run_title(scores_path)
    if keys:
        figure.suptitle(keys)
    figure.tight_layout()
    _save(figure, out)


def _is_transductive(scores_path) -> bool:
    """Whether the run beside ``scores_path`` recorded the transductive protocol (``metrics.json``)."""
    from ..data.splits import TRANSDUCTIVE

    metrics = Path(scores_path).with_name("metrics.json")
    return metrics.is_file() and read_metrics(metrics).get("protocol") == TRANSDUCTIVE


def _run_title(scores_path) -> str:
    try:
        run = _run_of_scores(scores_path)
    except OcbenchError:  # a scores file outside a run directory still gets its figure
        return ""
    return (f"{run['method']} on {run['dataset']} ({run['setting']}), normal class {run['normal']}, "
            f"seed {run['seed']}: test images of the normal class")
