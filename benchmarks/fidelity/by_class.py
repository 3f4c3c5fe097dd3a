"""Join the cell files of several ``compare_reference.py`` runs into one per-class table.

``compare_reference.py`` writes one CSV of (class, seed, method) cells per run; runs of
different seeds (one seed at a time, as a CPU allows) are joined here into the mean ±
std over seeds per (class, method) on both sides and their difference, printed as a
Markdown table with each cell's targets (|mean difference| ≤ 1.5 AUROC for Deep SVDD,
≤ 3 for CAE) and written as CSV.

    python benchmarks/fidelity/by_class.py /tmp/fid/full_5_8_seed*.csv --out /tmp/fid/by_class.csv
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_reference import by_class, write_csv  # noqa: E402

#: largest |mean difference| over seeds per class that the fidelity target allows
TARGETS = {"cae": 3.0, "deep_svdd_oneclass": 1.5, "deep_svdd_softboundary": 1.5}


def read_cells(paths: list[Path]) -> list[dict]:
    cells = {}
    for path in paths:
        with open(path) as handle:
            for row in csv.DictReader(handle):
                key = (int(row["class"]), int(row["seed"]), row["method"])
                if key in cells:
                    raise SystemExit(f"{path}: class {key[0]}, seed {key[1]}, {key[2]} is in two files")
                cells[key] = {"class": key[0], "seed": key[1], "method": key[2],
                              "reference_auroc": float(row["reference_auroc"]),
                              "ocbench_auroc": float(row["ocbench_auroc"])}
    return [cells[key] for key in sorted(cells)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cells", nargs="+", type=Path, help="cell CSVs written by compare_reference.py")
    parser.add_argument("--out", type=Path, required=True, help="the per-class CSV")
    args = parser.parse_args(argv)
    summary = by_class(read_cells(args.cells))
    write_csv(args.out, summary)
    print("| class | method | seeds | reference | ocbench | difference | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in summary:
        target = TARGETS.get(row["method"])
        verdict = "" if target is None else (f"≤ {target:g}: " + ("met" if abs(row["difference"]) <= target
                                                                   else "missed"))
        print(f"| {row['class']} | {row['method']} | {row['seeds']} | {row['reference_mean']:.2f} ± "
              f"{row['reference_std']:.2f} | {row['ocbench_mean']:.2f} ± {row['ocbench_std']:.2f} | "
              f"{row['difference']:+.2f} | {verdict} |")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
