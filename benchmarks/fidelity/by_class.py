"""Join the cell files of several ``compare_reference.py`` runs into one per-class table.

``compare_reference.py`` writes one CSV of (class, seed, method) cells per run; runs of
different seeds (one seed at a time, as a CPU allows) are joined here into the mean ±
std over seeds per (class, method) on both sides and their difference, printed as a
Markdown table with each cell's targets (|mean difference| ≤ 1.5 AUROC for Deep SVDD,
≤ 3 for CAE) and written as CSV. Each row also lists the same-seed differences, seed by
seed, and how many are within 0.5 (the same-seed target of Deep SVDD and CAE), so the
table reports every cell. Below it, per method, the mean over classes on both sides,
their difference, its standard error over the classes and the 95 % interval it gives
(Student's t with one degree of freedom less than the classes): the Deep SAD target
(within 1.5) is on that mean, as the paper reports means over classes, and the interval
says which differences the cells can rule out. Last, per method, how many cells have
ocbench below the reference and how many above, with the two-sided sign test's p-value:
a lean of one code too small for the interval to show still tips the signs.
``compare_deep_sad.py``'s cell files have the same columns and are joined the same way.

    python benchmarks/fidelity/by_class.py /tmp/fid/full_5_8_seed*.csv --out /tmp/fid/by_class.csv
"""
from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path


#: largest |mean difference| over seeds per class that the fidelity target allows
TARGETS = {"cae": 3.0, "deep_svdd_oneclass": 1.5, "deep_svdd_softboundary": 1.5}
#: largest |difference| of the mean over classes that the fidelity target allows
CLASS_MEAN_TARGETS = {"deep_sad": 1.5}
#: largest |difference| of one (class, seed) cell that the same-seed target allows
SAME_SEED_TARGET = 0.5
SAME_SEED_METHODS = ("cae", "deep_svdd_oneclass", "deep_svdd_softboundary")


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def by_class(rows: list[dict]) -> list[dict]:
    out = []
    keys = sorted({(r["class"], r["method"]) for r in rows})
    for normal_class, method in keys:
        cells = sorted((r for r in rows if r["class"] == normal_class and r["method"] == method),
                       key=lambda r: r["seed"])
        ref_mean, ref_std = mean_std([r["reference_auroc"] for r in cells])
        our_mean, our_std = mean_std([r["ocbench_auroc"] for r in cells])
        same_seed = [round(r["ocbench_auroc"] - r["reference_auroc"], 2) for r in cells]
        out.append({"class": normal_class, "method": method, "seeds": len(cells),
                    "reference_mean": round(ref_mean, 2), "reference_std": round(ref_std, 2),
                    "ocbench_mean": round(our_mean, 2), "ocbench_std": round(our_std, 2),
                    "difference": round(our_mean - ref_mean, 2),
                    "same_seed_differences": " ".join(f"{d:+.2f}" for d in same_seed),
                    "same_seed_within": sum(abs(d) <= SAME_SEED_TARGET for d in same_seed)})
    return out


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_cells(paths: list[Path]) -> list[dict]:
    """The cells of the files, each with its ``threads`` (torch's thread count, which the
    reference's AUROC depends on), its ``recipe`` (blank where a file has one recipe only),
    the batch ``order`` its reference trained in (``own``, ``ocbench's`` or ``ocbench's
    stream K``; blank where the file does not say), the ``cpu`` both ran on (``harness.cpu_label``;
    blank where the file does not say) and whether ocbench's run started from the
    pretrained encoder (``ocbench_pretrain``; false where the file does not say)."""
    cells = {}
    for path in paths:
        with open(path) as handle:
            reader = csv.DictReader(handle)
            if "threads" not in (reader.fieldnames or []):
                raise SystemExit(f"{path}: no threads column; a cell's AUROC depends on torch's thread count")
            for row in reader:
                key = (int(row["class"]), int(row["seed"]), row["method"])
                if key in cells:
                    raise SystemExit(f"{path}: class {key[0]}, seed {key[1]}, {key[2]} is in two files")
                cells[key] = {"class": key[0], "seed": key[1], "method": key[2],
                              "reference_auroc": float(row["reference_auroc"]),
                              "ocbench_auroc": float(row["ocbench_auroc"]),
                              # of the unrounded AUROCs: its sign holds where the two rounded ones are level
                              "difference": float(row["difference"]), "threads": int(row["threads"]),
                              "recipe": row.get("recipe", ""), "order": row.get("order", ""),
                              "cpu": row.get("cpu", ""),
                              # only a workflow run with pretrain: true says true (compare_deep_sad --results)
                              "ocbench_pretrain": row.get("ocbench_pretrain", "false") == "true"}
    return [cells[key] for key in sorted(cells)]


def over_classes(summary: list[dict]) -> list[dict]:
    """Per method, each side's mean over classes of its per-class means, their difference,
    the standard error of that difference (the standard deviation of the per-class
    differences over sqrt(number of classes), so a difference can be read against the
    scatter of the classes it averages) and its 95 % interval, difference ± t·error with
    Student's t quantile for one degree of freedom less than the classes."""
    from scipy.stats import t

    out = []
    for method in sorted({row["method"] for row in summary}):
        rows = [row for row in summary if row["method"] == method]
        differences = [row["ocbench_mean"] - row["reference_mean"] for row in rows]
        mean = statistics.fmean(differences)
        error = statistics.stdev(differences) / math.sqrt(len(rows)) if len(rows) > 1 else float("nan")
        half_width = t.ppf(0.975, len(rows) - 1) * error if len(rows) > 1 else float("nan")
        out.append({"method": method, "classes": len(rows), "cells": sum(row["seeds"] for row in rows),
                    "reference_mean": round(statistics.fmean(row["reference_mean"] for row in rows), 2),
                    "ocbench_mean": round(statistics.fmean(row["ocbench_mean"] for row in rows), 2),
                    "difference": round(mean, 2), "standard_error": round(error, 2),
                    "interval_low": round(mean - half_width, 2), "interval_high": round(mean + half_width, 2)})
    return out


def signs(cells: list[dict]) -> list[dict]:
    """Per method, the cells with ocbench below the reference, above it and level (by each
    cell's ``difference``, the unrounded AUROCs' difference to two decimals), and the
    two-sided sign test's p-value over the cells not level:
    the chance, were each cell's sign a fair coin, of a split at least as uneven."""
    from scipy.stats import binomtest

    out = []
    for method in sorted({cell["method"] for cell in cells}):
        differences = [c["difference"] for c in cells if c["method"] == method]
        below, above = sum(d < 0 for d in differences), sum(d > 0 for d in differences)
        p = binomtest(below, below + above).pvalue if below + above else float("nan")
        out.append({"method": method, "below": below, "above": above, "level": len(differences) - below - above,
                    "p": p})
    return out


def verdict(difference: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"≤ {target:g}: " + ("met" if abs(difference) <= target else "missed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cells", nargs="+", type=Path, help="cell CSVs written by compare_reference.py")
    parser.add_argument("--out", type=Path, required=True, help="the per-class CSV")
    args = parser.parse_args(argv)
    cells = read_cells(args.cells)
    recipes = sorted({cell["recipe"] for cell in cells})
    if len(recipes) > 1:
        raise SystemExit(f"the cells are of {len(recipes)} recipes ({' | '.join(recipes)}); join one recipe's cells")
    if len({cell["ocbench_pretrain"] for cell in cells}) > 1:
        raise SystemExit("some cells' ocbench runs started from the pretrained encoder (ocbench_pretrain true), "
                         "others not: join the cells of one kind")
    # the targets are of the two codes' agreement; with the transfer ocbench runs another method
    transfer = cells[0]["ocbench_pretrain"]
    targets, class_mean_targets = ({}, {}) if transfer else (TARGETS, CLASS_MEAN_TARGETS)
    if transfer:
        print("ocbench's runs started from the pretrained encoder, the reference's did not: no target applies")
    summary = by_class(cells)
    write_csv(args.out, summary)
    print("| class | method | seeds | reference | ocbench | difference | target | same seed, seed by seed "
          f"| within {SAME_SEED_TARGET:g} |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in summary:
        print(f"| {row['class']} | {row['method']} | {row['seeds']} | {row['reference_mean']:.2f} ± "
              f"{row['reference_std']:.2f} | {row['ocbench_mean']:.2f} ± {row['ocbench_std']:.2f} | "
              f"{row['difference']:+.2f} | {verdict(row['difference'], targets.get(row['method']))} | "
              f"{row['same_seed_differences']} | {row['same_seed_within']} of {row['seeds']} |")
    means = over_classes(summary)
    means_path = args.out.with_name(args.out.stem + "_over_classes.csv")
    write_csv(means_path, means)
    print()
    print("| method | classes | cells | reference | ocbench | difference | standard error | 95 % interval "
          "| target |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in means:
        print(f"| {row['method']} | {row['classes']} | {row['cells']} | {row['reference_mean']:.2f} | "
              f"{row['ocbench_mean']:.2f} | {row['difference']:+.2f} | {row['standard_error']:.2f} | "
              f"{row['interval_low']:+.2f} to {row['interval_high']:+.2f} | "
              f"{verdict(row['difference'], class_mean_targets.get(row['method']))} |")
    for method in sorted({row["method"] for row in summary} & set(SAME_SEED_METHODS)):
        rows = [row for row in summary if row["method"] == method]
        print(f"{method}: {sum(r['same_seed_within'] for r in rows)} of {sum(r['seeds'] for r in rows)} same-seed "
              f"cells within {SAME_SEED_TARGET:g}")
    for row in signs(cells):
        print(f"{row['method']}: ocbench below the reference in {row['below']} cells, above in {row['above']}, "
              f"level in {row['level']} (two-sided sign test p = {row['p']:.2g})")
    print(f"wrote {args.out} and {means_path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
