"""Deep SAD on the same split and recipe: the Deep SAD reference's AUROC beside ocbench's.

For each normal class c and seed, ocbench draws the semi-supervised split of the Deep SAD
paper's scenario (i) on Fashion-MNIST (γ_l = 0.01 known anomalies, all of class
(c + 1) mod 10, γ_p = 0.1 pollution, ``splits.make_split``), and both codes train on
exactly those samples and semi-labels and score the whole test split: the reference
(a checkout of github.com/lukasruff/Deep-SAD-PyTorch: its ``DeepSAD`` class, network,
trainer, centre and test, through a dataset object with its ``loaders`` contract) and
ocbench's ``DeepSAD`` detector. The recipe and the split's setting are read from
``workflow/experiments/fidelity_fmnist_deep_sad.yaml``, the reference's defaults where the
paper's setup leaves them: ``fmnist_LeNet``, images in [0, 1] (``ToTensor``), Adam lr 1e-3,
weight decay 1e-6, batch 128, η = 1, no pretraining, 30 epochs; ocbench starts from the
reference's initial weights for the seed (``init: deep_sad``). Only the batch order
differs (each code shuffles with its own generator). ocbench's AUROC comes from that
experiment's workflow run (``--results``, its outdir) or from training here, in-process,
through the same detector.

    python benchmarks/fidelity/compare_deep_sad.py --reference /tmp/Deep-SAD-PyTorch \
        --classes 0-9 --seeds 1 --out /tmp/fid/deep_sad_seed1.csv

Writes one row per (class, seed), and prints the mean over classes of each side and
their difference (target: within 1.5 AUROC). ``--same-order`` hands the reference
ocbench's batches (``training.batches`` with ``training.batch_order(seed)``) instead of its own
shuffle, so that only the arithmetic differs; ``--components`` checks, in float64 on
the split of the first class and seed, that both codes start from the same weights and
centre and take the same first five Adam steps on the same batch. ``--reference-cells``
takes the reference's AUROCs from earlier cell files instead of training it again: they
depend only on the reference's code, the split and the seed, so a change of ocbench's
training is measured against the same reference runs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from by_class import read_cells, write_csv  # noqa: E402
from harness import (ROOT, SameOrderLoaders, add_common_arguments, auroc_from_results,  # noqa: E402
                     check_common_arguments, check_mirror, fmnist_arrays, import_reference,
                     seed_like_reference)

EXPERIMENT = ROOT / "workflow" / "experiments" / "fidelity_fmnist_deep_sad.yaml"
SETTING_NAME = "gamma_l_0.01"


def load_experiment(path: Path = EXPERIMENT) -> tuple[dict, dict]:
    """The recipe (Adam, epochs, batch, η) and the split setting of the Deep SAD fidelity
    experiment, the one file both the workflow and this script train from."""
    config = yaml.safe_load(Path(path).read_text())
    network, dataset = config["training"]["network"], config["datasets"]["fmnist"]
    setting = dict(config["settings"][SETTING_NAME])
    # what the reference side of this script is written for
    fixed = {"net": (dataset["net"], "fmnist_lenet"), "preprocessing": (dataset["preprocessing"], "unit"),
             "init": (config["training"]["init"], "deep_sad"), "pretrain": (config["training"]["pretrain"], False),
             "known_outlier_class": (setting.pop("known_outlier_class"), "next")}
    for key, (value, needed) in fixed.items():
        if value != needed:
            raise SystemExit(f"{path}: {key} {value!r}; compare_deep_sad.py runs the reference with {needed!r}")
    recipe = {key: network[key] for key in ("lr", "epochs", "batch_size", "weight_decay")}
    recipe["milestones"] = tuple(network["milestones"])
    recipe["eta"] = config["method_params"]["deep_sad"]["eta"]
    return recipe, {**setting, "validation_fraction": config["validation_fraction"]}


RECIPE, SETTING = load_experiment()


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


class SameOrderDataset(SameOrderLoaders, ReferenceDataset):
    """The Deep SAD reference's dataset with ocbench's batches (its trainer's first pass is the centre's)."""


def run_reference(checkout: Path, data, seed: int, same_order: bool = False) -> float:
    """AUROC (%) of the reference: seeded as its main.py, network built, trained, tested."""
    deep_sad = import_reference(checkout, "DeepSAD")
    seed_like_reference(seed)
    model = deep_sad.DeepSAD(RECIPE["eta"])
    model.set_network("fmnist_LeNet")
    dataset = SameOrderDataset(*data, seed=seed, centre_pass=True) if same_order else ReferenceDataset(*data)
    model.train(dataset, optimizer_name="adam", lr=RECIPE["lr"], n_epochs=RECIPE["epochs"],
                lr_milestones=RECIPE["milestones"], batch_size=RECIPE["batch_size"],
                weight_decay=RECIPE["weight_decay"], device="cpu", n_jobs_dataloader=0)
    model.test(dataset, device="cpu", n_jobs_dataloader=0)
    return 100 * model.results["test_auc"]


def run_ocbench(data, seed: int) -> float:
    from sklearn.metrics import roc_auc_score

    from ocbench.detectors.deep_sad import DeepSAD

    x_train, semi, x_test, y_test = data
    detector = DeepSAD(net="fmnist_lenet", eta=RECIPE["eta"], lr=RECIPE["lr"], epochs=RECIPE["epochs"],
                       milestones=RECIPE["milestones"], batch_size=RECIPE["batch_size"],
                       weight_decay=RECIPE["weight_decay"], init="deep_sad", seed=seed).fit(x_train, semi)
    return 100 * roc_auc_score(y_test, detector.decision_function(x_test))


def ocbench_from_results(results: Path, normal_class: int, seed: int) -> float:
    """AUROC (%) of the workflow's Deep SAD run of the cell (setting ``gamma_l_0.01.k<(c + 1) mod 10>``)."""
    from ocbench.config.names import known_setting_name

    setting = known_setting_name(SETTING_NAME, (normal_class + 1) % 10)
    return auroc_from_results(results, setting, normal_class, seed, ["deep_sad"])["deep_sad"]


def check_components(checkout: Path, data, seed: int, steps: int = 5) -> None:
    """Float64, same weights, same batch: initial weights, centre, and the losses and weights of ``steps`` Adam steps."""
    from ocbench.detectors.objectives import deep_sad_loss, init_center, squared_distance
    from ocbench.nets import build_network
    from ocbench.nets.reference_init import apply_init

    torch.manual_seed(seed)  # the reference's main.py: seed, then build the network
    theirs = import_reference(checkout, "networks.main").build_network("fmnist_LeNet").double()
    ours = build_network("fmnist_lenet")
    apply_init(ours, "fmnist_lenet", "deep_sad", seed, "network")
    ours = ours.double()
    named = dict(ours.named_parameters())
    print("initial weights equal:", all(torch.equal(p, named[k]) for k, p in theirs.named_parameters()))
    x, semi = torch.from_numpy(data[0]).double(), torch.from_numpy(data[1])
    theirs.eval(), ours.eval()
    with torch.no_grad():
        print(f"centre: max |difference| {(theirs(x).mean(0) - ours(x).mean(0)).abs().max().item():.2g}")
        center = init_center(ours(x))
    batch = torch.cat([torch.nonzero(semi == -1).flatten()[:5], torch.arange(3000, 3123)])  # known anomalies too
    optimizers = [torch.optim.Adam(net.parameters(), lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"])
                  for net in (theirs, ours)]
    theirs.train(), ours.train()
    for step in range(steps):
        losses = []
        for net, optimizer in zip((theirs, ours), optimizers):
            optimizer.zero_grad()
            dist = squared_distance(net(x[batch]), center)
            if net is theirs:  # the reference trainer's own expression
                loss = torch.mean(torch.where(semi[batch] == 0, dist, RECIPE["eta"] * ((dist + 1e-6) **
                                                                                   semi[batch].double())))
            else:
                loss = deep_sad_loss(dist, semi[batch], RECIPE["eta"], 1e-6)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        print(f"step {step + 1}: loss reference {losses[0]:.12g}, ocbench {losses[1]:.12g}")
    print(f"weights after {steps} steps: max |difference| "
          f"{max((p - named[k]).abs().max().item() for k, p in theirs.named_parameters()):.2g}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, "Deep-SAD-PyTorch", seeds="1")
    parser.add_argument("--components", action="store_true", help="only the float64 component check")
    parser.add_argument("--results", type=Path,
                        help="the outdir of fidelity_fmnist_deep_sad.yaml's workflow run; else ocbench runs here")
    parser.add_argument("--out", type=Path, required=True, help="CSV, one row per (class, seed)")
    args = parser.parse_args(argv)
    check_common_arguments(parser, args)
    if args.results and args.components:
        parser.error("--components compares the two codes step by step here: leave out --results")
    # (class, seed) -> the reference's AUROC, from earlier cell files
    known = {(cell["class"], cell["seed"]): cell["reference_auroc"] for cell in read_cells(args.reference_cells)}
    check_mirror(args.mirror)
    torch.set_num_threads(args.threads)
    print(f"recipe: {RECIPE}, setting: {SETTING}, known anomaly class (c + 1) mod 10, init deep_sad")
    arrays = fmnist_arrays(args.mirror)
    if args.components:
        check_components(args.reference, draw(arrays, args.classes[0], args.seeds[0]), args.seeds[0])
        return 0
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for normal_class in args.classes:
        for seed in args.seeds:
            data = draw(arrays, normal_class, seed)
            start = time.perf_counter()
            reused = (normal_class, seed) in known
            theirs = known[normal_class, seed] if reused else run_reference(args.reference, data, seed, args.same_order)
            middle = time.perf_counter()
            reference_time = "from the cell files" if reused else f"{middle - start:.0f} s"
            ours = ocbench_from_results(args.results, normal_class, seed) if args.results else run_ocbench(data, seed)
            end = time.perf_counter()
            rows.append({"class": normal_class, "seed": seed, "method": "deep_sad", "reference_auroc": round(theirs, 2),
                         "ocbench_auroc": round(ours, 2), "difference": round(ours - theirs, 2)})
            print(f"class {normal_class} seed {seed} deep_sad reference {theirs:6.2f} ocbench {ours:6.2f} "
                  f"difference {ours - theirs:+6.2f}  (reference {reference_time}, "
                  f"ocbench {end - middle:.0f} s)",
                  flush=True)
            write_csv(args.out, rows)  # after every cell: an interrupted run keeps what it did
    reference = statistics.fmean(r["reference_auroc"] for r in rows)
    ocbench = statistics.fmean(r["ocbench_auroc"] for r in rows)
    print(f"mean over {len(rows)} cells: reference {reference:.2f}, ocbench {ocbench:.2f}, "
          f"difference {ocbench - reference:+.2f} (target: within 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
