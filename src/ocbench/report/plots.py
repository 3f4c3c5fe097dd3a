"""Figures: AUROC per normal class, ROC curves, and the most normal and most anomalous test images.

Every function draws on a new figure and saves it to ``out`` (the format follows the
suffix: .png, .pdf or .svg); nothing is shown on screen.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # jobs run without a display; must precede the pyplot import
# seaborn puts class ids such as "3" on a categorical axis, which matplotlib logs at INFO each time
logging.getLogger("matplotlib.category").setLevel(logging.WARNING)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..config import parse_normal  # noqa: E402
from ..errors import OcbenchError  # noqa: E402
from .collect import method_labels, read_metrics, read_scores, run_keys  # noqa: E402

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


# --------------------------------------------------------------------------- AUROC per class

def plot_auroc(runs: pd.DataFrame, out) -> None:
    """Test AUROC (%) per normal class and method, one point per run; one panel per (dataset, setting).

    A setting with one split per known outlier class (``<setting>.k<class>``) is one
    panel, its known classes' runs side by side (``base_setting``)."""
    setting = runs["base_setting"] if "base_setting" in runs else runs["setting"]
    data = runs.assign(method_label=method_labels(runs), auroc_percent=100.0 * runs["auroc"].astype(float),
                       panel=runs["dataset"] + " / " + setting)
    data = data[np.isfinite(data["auroc_percent"])]
    if data.empty:
        raise OcbenchError("no run has an AUROC to plot (all failed or had single-class test sets)")
    panels = list(pd.unique(data["panel"]))
    methods = list(pd.unique(data["method_label"]))
    palette = dict(zip(methods, sns.color_palette("husl", len(methods))))
    # Each panel gets its own classes on the x axis (a tabular set has one, an image set
    # ten), about one inch per class and method group, stacked in one column.
    widths = [len(pd.unique(data.loc[data["panel"] == p, "normal"])) for p in panels]
    width = max(6.0, min(16.0, 0.9 * max(widths) + 0.12 * len(methods)))
    figure, axes = plt.subplots(len(panels), 1, figsize=(width, 3.2 * len(panels)), squeeze=False)
    for axis, panel in zip(axes[:, 0], panels):
        part = data[data["panel"] == panel]
        order = sorted(pd.unique(part["normal"]), key=parse_normal)
        present = [m for m in methods if m in set(part["method_label"])]
        sns.stripplot(data=part, x="normal", y="auroc_percent", hue="method_label", order=order,
                      hue_order=present, palette=palette, dodge=True, jitter=False, size=5, alpha=0.85,
                      ax=axis, legend=False)
        axis.set_title(panel)
        axis.set_xlabel("normal class")
        axis.set_ylabel("test AUROC (%)")
        axis.set_ylim(-2, 102)
        axis.grid(axis="y", alpha=0.3)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=palette[m], label=m) for m in methods]
    figure.legend(handles=handles, title="method", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    figure.tight_layout()
    figure.suptitle("Test AUROC per normal class (one point per run)", y=1.0 + 0.25 / figure.get_figheight())
    _save(figure, out)


# --------------------------------------------------------------------------- ROC curves

def _run_of_scores(path) -> dict:
    """The keys of the run that wrote ``path``: from the metrics.json beside it, else from the path."""
    path = Path(path)
    metrics_path = path.with_name("metrics.json")
    metrics = read_metrics(metrics_path) if metrics_path.is_file() else {}
    return run_keys(metrics, path)


def plot_roc(score_paths, out) -> None:
    """ROC curves of every method: one panel per method, one curve per (normal classes, seed),
    coloured by the normal classes."""
    from sklearn.metrics import auc, roc_curve

    paths = [Path(p) for p in score_paths]
    if not paths:
        raise OcbenchError("no scores.csv files given; pass at least one path (or @listing)")
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
    from ..data.prepared import load_prepared

    arrays = load_prepared(prepared_path)
    if "x_test" not in arrays:
        raise OcbenchError(f"prepared dataset {prepared_path} is tabular; the extremes figure is drawn for "
                           "image datasets only")
    images = arrays["x_test"]
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


def _run_title(scores_path) -> str:
    try:
        run = _run_of_scores(scores_path)
    except OcbenchError:  # a scores file outside a run directory still gets its figure
        return ""
    return (f"{run['method']} on {run['dataset']} ({run['setting']}), normal class {run['normal']}, "
            f"seed {run['seed']}: test images of the normal class")
