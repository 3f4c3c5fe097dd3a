"""The fidelity table's arithmetic (benchmarks/fidelity/by_class.py) on numbers worked by hand.

Two classes, two seeds each:
- class 0: reference 80, 82 (mean 81); ocbench 79, 81 (mean 80): difference -1;
- class 1: reference 90, 90 (mean 90); ocbench 93, 93 (mean 93): difference +3.
Over the classes: reference 85.5, ocbench 86.5, difference +1; the per-class differences
-1 and +3 have standard deviation 2*sqrt(2), so the standard error is 2*sqrt(2)/sqrt(2) = 2.
With two classes Student's t has one degree of freedom, the Cauchy distribution, whose
0.975 quantile is tan(0.475*pi) = 12.7062: the 95 % interval is 1 ± 25.41.
"""
import csv
import math
from pathlib import Path

import pytest

from helpers.paths import ROOT
from helpers.scripts import load_script

SCRIPT = ROOT / "benchmarks" / "fidelity" / "by_class.py"
CELLS = [(0, 1, 80.0, 79.0), (0, 2, 82.0, 81.0), (1, 1, 90.0, 93.0), (1, 2, 90.0, 93.0)]


@pytest.fixture(scope="module")
def by_class():
    return load_script(SCRIPT, "fidelity_by_class")


def write_cells(path: Path, method: str, cells=CELLS) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["class", "seed", "method", "reference_auroc", "ocbench_auroc", "difference", "threads"])
        for normal_class, seed, reference, ours in cells:
            writer.writerow([normal_class, seed, method, reference, ours, ours - reference, 1])
    return path


def test_per_class_means_and_the_mean_over_classes_with_its_standard_error(by_class, tmp_path):
    summary = by_class.by_class(by_class.read_cells([write_cells(tmp_path / "cells.csv", "deep_sad")]))
    assert [(row["class"], row["reference_mean"], row["ocbench_mean"], row["difference"]) for row in summary] \
        == [(0, 81.0, 80.0, -1.0), (1, 90.0, 93.0, 3.0)]
    (means,) = by_class.over_classes(summary)
    assert means == {"method": "deep_sad", "classes": 2, "cells": 4, "reference_mean": 85.5,
                     "ocbench_mean": 86.5, "difference": 1.0, "standard_error": 2.0,
                     "interval_low": -24.41, "interval_high": 26.41}


def test_the_deep_sad_target_is_on_the_mean_over_classes(by_class, tmp_path, capsys):
    cells = write_cells(tmp_path / "cells.csv", "deep_sad")
    by_class.main([str(cells), "--out", str(tmp_path / "table.csv")])
    printed = capsys.readouterr().out
    assert "| deep_sad | 2 | 4 | 85.50 | 86.50 | +1.00 | 2.00 | -24.41 to +26.41 | ≤ 1.5: met |" in printed
    assert (tmp_path / "table_over_classes.csv").exists()
    # shift every ocbench cell down by 3: the mean over classes is 2 below, outside 1.5
    shifted = [(c, s, r, o - 3) for c, s, r, o in CELLS]
    by_class.main([str(write_cells(tmp_path / "low.csv", "deep_sad", shifted)), "--out", str(tmp_path / "low_table.csv")])
    assert "| -2.00 | 2.00 | -27.41 to +23.41 | ≤ 1.5: missed |" in capsys.readouterr().out


def test_the_signs_of_the_cells_and_their_sign_test_worked_by_hand(by_class, tmp_path, capsys):
    # five cells: ocbench below in three, above in one, level in one (82.00 against 82.00).
    # Over the four not level, a split of 3 to 1 or more uneven, either way, has the chance
    # 2 * (C(4,3) + C(4,4)) / 2**4 = 2 * 5/16 = 0.625.
    cells = [(0, 1, 80.0, 79.5), (0, 2, 81.0, 80.9), (1, 1, 90.0, 89.0), (1, 2, 91.0, 91.3), (2, 1, 82.0, 82.0)]
    path = write_cells(tmp_path / "cells.csv", "deep_sad", cells)
    (row,) = by_class.signs(by_class.read_cells([path]))
    assert (row["below"], row["above"], row["level"]) == (3, 1, 1)
    assert row["p"] == pytest.approx(0.625)
    by_class.main([str(path), "--out", str(tmp_path / "table.csv")])
    assert "deep_sad: ocbench below the reference in 3 cells, above in 1, level in 1 (two-sided sign test p = 0.62)" \
        in capsys.readouterr().out
    # 31 of 40 below, 9 above: the lean the Deep SAD cells showed, 2 * P(X >= 31 | 40, 1/2)
    lean = [(c, s, 80.0, 79.9 if s <= 31 else 80.1) for c, s in ((0, k) for k in range(1, 41))]
    (row,) = by_class.signs(by_class.read_cells([write_cells(tmp_path / "lean.csv", "deep_sad", lean)]))
    assert row["p"] == pytest.approx(2 * sum(math.comb(40, k) for k in range(31, 41)) / 2**40)


def test_a_cell_in_two_files_is_refused(by_class, tmp_path):
    first = write_cells(tmp_path / "a.csv", "cae")
    second = write_cells(tmp_path / "b.csv", "cae", CELLS[:1])
    with pytest.raises(SystemExit, match="class 0, seed 1, cae is in two files"):
        by_class.read_cells([first, second])


def test_a_cell_file_without_its_thread_count_is_refused(by_class, tmp_path):
    path = tmp_path / "cells.csv"
    path.write_text("class,seed,method,reference_auroc,ocbench_auroc,difference\n0,1,cae,80.0,79.0,-1.0\n")
    with pytest.raises(SystemExit, match="no threads column; a cell's AUROC depends on torch's thread count"):
        by_class.read_cells([path])


def test_cells_of_two_recipes_are_not_joined(by_class, tmp_path):
    paths = []
    for name, epochs in (("a.csv", 15), ("b.csv", 150)):
        path = tmp_path / name
        path.write_text("class,seed,method,reference_auroc,ocbench_auroc,difference,threads,recipe\n"
                        f"{len(paths)},1,deep_sad,80.0,79.0,-1.0,1,deep sad {epochs} epochs\n")
        paths.append(str(path))
    with pytest.raises(SystemExit, match="the cells are of 2 recipes"):
        by_class.main([*paths, "--out", str(tmp_path / "table.csv")])


def test_cells_with_and_without_the_transfer_are_not_joined(by_class, tmp_path, capsys):
    """ocbench with the pretraining transfer is another method than without it: a file that
    does not say (an in-process run, never handed the encoder) counts as without."""
    paths = []
    for name, column, value in (("a.csv", "", ""), ("b.csv", ",ocbench_pretrain", ",true")):
        path = tmp_path / name
        path.write_text(f"class,seed,method,reference_auroc,ocbench_auroc,difference,threads,recipe{column}\n"
                        f"{len(paths)},1,deep_sad,80.0,79.0,-1.0,1,deep sad 150 epochs{value}\n")
        paths.append(str(path))
    assert [cell["ocbench_pretrain"] for cell in by_class.read_cells(paths)] == [False, True]
    with pytest.raises(SystemExit, match="some cells' ocbench runs started from the pretrained encoder"):
        by_class.main([*paths, "--out", str(tmp_path / "table.csv")])
    by_class.main([paths[1], "--out", str(tmp_path / "table.csv")])  # one kind alone is joined, with no target
    printed = capsys.readouterr().out
    assert "no target applies" in printed and ": missed" not in printed and ": met" not in printed


def test_every_committed_cell_file_carries_its_thread_count(by_class):
    """The reference's AUROC depends on torch's thread count (its gradients differ between 1
    and 2 threads): every cell of every committed file says how many threads it ran on."""
    files = sorted((SCRIPT.parent / "cells").glob("*.csv"))
    assert files
    for path in files:
        cells = by_class.read_cells([path])
        assert cells and all(isinstance(c["threads"], int) and c["threads"] >= 1 for c in cells), path.name


def test_every_committed_order_file_carries_its_thread_count_and_one_stream_a_row():
    """``orders/`` holds one (class, seed) in several batch orders (``compare_deep_sad.py
    --order-stream``): each row names its stream, one of the script's own (3 or more), once."""
    files = sorted((SCRIPT.parent / "orders").glob("*.csv"))
    assert files
    for path in files:
        with open(path) as handle:
            rows = list(csv.DictReader(handle))
        assert rows and all(int(row["threads"]) >= 1 and int(row["order_stream"]) >= 3 for row in rows), path.name
        keys = [(row["class"], row["seed"], row["method"], row["order_stream"]) for row in rows]
        assert len(set(keys)) == len(keys), path.name


def test_every_same_seed_difference_is_listed_and_counted_against_half_a_point(by_class, tmp_path, capsys):
    # class 0: 80.0 -> 80.3 (+0.30, within 0.5), 82.0 -> 81.0 (-1.00); class 1: +3.00 twice
    cells = [(0, 2, 82.0, 81.0), (0, 1, 80.0, 80.3), (1, 1, 90.0, 93.0), (1, 2, 90.0, 93.0)]
    path = write_cells(tmp_path / "cells.csv", "cae", cells)
    summary = by_class.by_class(by_class.read_cells([path]))
    assert [(row["same_seed_differences"], row["same_seed_within"]) for row in summary] \
        == [("+0.30 -1.00", 1), ("+3.00 +3.00", 0)]
    by_class.main([str(path), "--out", str(tmp_path / "table.csv")])
    printed = capsys.readouterr().out
    assert "| ≤ 3: met | +0.30 -1.00 | 1 of 2 |" in printed
    assert "cae: 1 of 4 same-seed cells within 0.5" in printed
