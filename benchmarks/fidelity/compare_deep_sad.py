"""Deep SAD on the same split and recipe: the Deep SAD reference's AUROC beside ocbench's.

For each normal class c and seed, ocbench draws the semi-supervised split of the Deep SAD
paper's scenario (i) on Fashion-MNIST (γ_l = 0.01 known anomalies, all of class
(c + 1) mod 10, γ_p = 0.1 pollution, ``splits.make_split``), and both codes train on
exactly those samples and semi-labels and score the whole test split: the reference
(a checkout of github.com/lukasruff/Deep-SAD-PyTorch: its ``DeepSAD`` class, network,
trainer, centre and test, through a dataset object with its ``loaders`` contract) and
ocbench's ``DeepSAD`` detector. The recipe is the reference's defaults where the paper's
setup leaves them: ``fmnist_LeNet``, images in [0, 1] (``ToTensor``), Adam lr 1e-3,
weight decay 1e-6, batch 128, η = 1, no pretraining, 30 epochs; ocbench starts from the
reference's initial weights for the seed (``init: deep_sad``). Only the batch order
differs (each code shuffles with its own generator).

    python benchmarks/fidelity/compare_deep_sad.py --reference /tmp/Deep-SAD-PyTorch \
        --classes 0-9 --seeds 1 --out /tmp/fid/deep_sad_seed1.csv

Writes one row per (class, seed), and prints the mean over classes of each side and
their difference (target: within 1.5 AUROC).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_reference import int_list, write_csv  # noqa: E402
from harness import import_reference  # noqa: E402

RECIPE = {"lr": 1e-3, "epochs": 30, "batch_size": 128, "weight_decay": 1e-6, "eta": 1.0}
SETTING = {"ratio_known_normal": 0.0, "ratio_known_outlier": 0.01, "ratio_pollution": 0.1,
           "n_known_outlier_classes": 1, "validation_fraction": 0.0}


def fmnist_arrays(mirror: Path) -> dict:
    import tempfile

    from ocbench.data.prepared import load_prepared, prepare_dataset

    prepared = Path(tempfile.gettempdir()) / "ocbench_fidelity" / "fmnist.npz"
    if not prepared.exists():
        prepare_dataset("fmnist", prepared.parent / "raw", mirror, prepared)
    return load_prepared(prepared)


def draw(arrays: dict, normal_class: int, seed: int):
    """The split's training images, semi-labels, test images and labels, as float32 in [0, 1]."""
    from ocbench.data.preprocess import preprocess
    from ocbench.data.splits import make_split

    split = make_split(arrays, "image", [normal_class], seed, known_outlier_class=(normal_class + 1) % 10, **SETTING)
    x_train, x_test = preprocess("unit", arrays["x_train"][split["train_idx"]], arrays["x_test"][split["test_idx"]],
                                 np.ones(len(split["train_idx"]), dtype=bool))
    return x_train, np.asarray(split["train_semi"]), x_test, np.asarray(split["test_label"])


class ReferenceDataset:
    """The Deep SAD reference's dataset contract: batches of (inputs, labels, semi_targets, index)."""

    def __init__(self, x_train, semi, x_test, y_test):
        from torch.utils.data import TensorDataset

        self.train_set = TensorDataset(torch.from_numpy(x_train), torch.zeros(len(x_train), dtype=torch.int64),
                                       torch.from_numpy(semi).long(), torch.arange(len(x_train)))
        self.test_set = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test).long(),
                                      torch.zeros(len(x_test), dtype=torch.int64), torch.arange(len(x_test)))

    def loaders(self, batch_size, shuffle_train=True, shuffle_test=False, num_workers=0):
        from torch.utils.data import DataLoader

        return (DataLoader(self.train_set, batch_size=batch_size, shuffle=shuffle_train, num_workers=num_workers),
                DataLoader(self.test_set, batch_size=batch_size, shuffle=shuffle_test, num_workers=num_workers))


def run_reference(checkout: Path, data, seed: int) -> float:
    """AUROC (%) of the reference: seeded as its main.py, network built, trained, tested."""
    deep_sad = import_reference(checkout, "DeepSAD")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = deep_sad.DeepSAD(RECIPE["eta"])
    model.set_network("fmnist_LeNet")
    dataset = ReferenceDataset(*data)
    model.train(dataset, optimizer_name="adam", lr=RECIPE["lr"], n_epochs=RECIPE["epochs"], lr_milestones=(),
                batch_size=RECIPE["batch_size"], weight_decay=RECIPE["weight_decay"], device="cpu",
                n_jobs_dataloader=0)
    model.test(dataset, device="cpu", n_jobs_dataloader=0)
    return 100 * model.results["test_auc"]


def run_ocbench(data, seed: int) -> float:
    from sklearn.metrics import roc_auc_score

    from ocbench.detectors.deep_sad import DeepSAD

    x_train, semi, x_test, y_test = data
    detector = DeepSAD(net="fmnist_lenet", eta=RECIPE["eta"], lr=RECIPE["lr"], epochs=RECIPE["epochs"],
                       milestones=(), batch_size=RECIPE["batch_size"], weight_decay=RECIPE["weight_decay"],
                       init="deep_sad", seed=seed).fit(x_train, semi)
    return 100 * roc_auc_score(y_test, detector.decision_function(x_test))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of Deep-SAD-PyTorch")
    parser.add_argument("--mirror", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--classes", type=int_list, default=int_list("0-9"))
    parser.add_argument("--seeds", type=int_list, default=int_list("1"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="CSV, one row per (class, seed)")
    args = parser.parse_args(argv)
    if not args.mirror.is_dir():
        raise SystemExit(f"the Fashion-MNIST mirror {args.mirror} does not exist "
                         "(apt-get install dataset-fashion-mnist)")
    torch.set_num_threads(args.threads)
    print(f"recipe: {RECIPE}, setting: {SETTING}, known anomaly class (c + 1) mod 10, init deep_sad")
    arrays = fmnist_arrays(args.mirror)
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for normal_class in args.classes:
        for seed in args.seeds:
            data = draw(arrays, normal_class, seed)
            start = time.perf_counter()
            theirs = run_reference(args.reference, data, seed)
            middle = time.perf_counter()
            ours = run_ocbench(data, seed)
            end = time.perf_counter()
            rows.append({"class": normal_class, "seed": seed, "method": "deep_sad", "reference_auroc": round(theirs, 2),
                         "ocbench_auroc": round(ours, 2), "difference": round(ours - theirs, 2)})
            print(f"class {normal_class} seed {seed} deep_sad reference {theirs:6.2f} ocbench {ours:6.2f} "
                  f"difference {ours - theirs:+6.2f}  (reference {middle - start:.0f} s, ocbench {end - middle:.0f} s)",
                  flush=True)
            write_csv(args.out, rows)  # after every cell: an interrupted run keeps what it did
    reference = statistics.fmean(r["reference_auroc"] for r in rows)
    ocbench = statistics.fmean(r["ocbench_auroc"] for r in rows)
    print(f"mean over {len(rows)} cells: reference {reference:.2f}, ocbench {ocbench:.2f}, "
          f"difference {ocbench - reference:+.2f} (target: within 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
