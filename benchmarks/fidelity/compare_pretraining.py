"""Deep SAD's pretraining in both codes: the reference's autoencoder beside ocbench's, same split and recipe.

The reference trains an autoencoder at ``--pretrain True`` and transfers none of it
(``docs/deviations.md``), so ``compare_deep_sad.py`` never compares the two codes'
pretraining; ocbench's Deep SAD with ``pretrain: true`` starts from it. Here each code's
autoencoder is trained on the split of ``compare_deep_sad.py`` (``draw``) with the
experiment file's autoencoder block, from the same initial weights (the reference: seeded
as its ``main.py``, network built, then ``DeepSAD.pretrain``, its own trainer and test;
ocbench: ``init: deep_sad``, the reference's draws in that order), and the AUROC of its
reconstruction error on the whole test split is put beside the other's. The reference's
is ``ae_results["test_auc"]``, which its ``pretrain`` computes and its ``main.py`` only logs.

``--same-order`` hands the reference's autoencoder ocbench's batches (``SameOrderLoaders``,
with ``drop_last`` as the recipe's, no centre pass), so only the arithmetic differs;
``--reference-schedule`` trains ocbench's autoencoder with every milestone one epoch
earlier, the schedule the reference runs. ocbench's autoencoder is trained here, or read
from the workflow run of the experiment with ``pretrain: true`` (``--results``: the
``autoencoder.pt`` its Deep SAD run was handed).

    python benchmarks/fidelity/compare_pretraining.py --reference /tmp/Deep-SAD-PyTorch \
        --results /tmp/xfer/results --classes 0 --seeds 1 --same-order --out /tmp/xfer/ae_0.csv
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from by_class import write_csv  # noqa: E402
from compare_deep_sad import (RECIPE, check_reference_loaders, deep_sad_run, draw,  # noqa: E402
                              reference_dataset)
from harness import (add_common_arguments, check_mirror, fmnist_arrays, import_reference,  # noqa: E402
                     milestones_label, order_label, recipe_label, reference_schedule, seed_like_reference,
                     shorten)


def run_reference_pretraining(checkout: Path, data, seed: int, recipe: dict, same_order: bool) -> float:
    """AUROC (%) of the reference's pretrained autoencoder, as ``DeepSAD.pretrain`` tests it."""
    deep_sad = import_reference(checkout, "DeepSAD")
    own = reference_dataset(checkout, data)
    check_reference_loaders(own, recipe)
    ae = recipe["autoencoder"]
    dataset = reference_dataset(checkout, data, seed, ae["drop_last"], centre_pass=False) if same_order else own
    seed_like_reference(seed)
    model = deep_sad.DeepSAD(recipe["eta"])
    model.set_network("fmnist_LeNet")  # drawn before the autoencoder, as in its main.py
    model.pretrain(dataset, optimizer_name="adam", lr=ae["lr"], n_epochs=ae["epochs"],
                   lr_milestones=tuple(ae["milestones"]), batch_size=ae["batch_size"],
                   weight_decay=ae["weight_decay"], device="cpu", n_jobs_dataloader=0)
    return 100 * model.ae_results["test_auc"]


def run_ocbench_pretraining(data, seed: int, recipe: dict) -> float:
    """AUROC (%) of ocbench's autoencoder trained here as the workflow's pretraining trains it."""
    from ocbench.detectors.autoencoder import AutoencoderDetector

    x_train, _, x_test, y_test = data
    ae = recipe["autoencoder"]
    detector = AutoencoderDetector(net="fmnist_lenet", lr=ae["lr"], epochs=ae["epochs"],
                                   milestones=tuple(ae["milestones"]), batch_size=ae["batch_size"],
                                   weight_decay=ae["weight_decay"], drop_last=ae["drop_last"], loss="mean",
                                   init="deep_sad", seed=seed).fit(x_train)
    return 100 * roc_auc_score(y_test, detector.decision_function(x_test))


def ocbench_pretraining_from_results(results: Path, normal_class: int, seed: int, data, recipe: dict) -> float:
    """AUROC (%) of the autoencoder the workflow's Deep SAD run of the cell was handed; refused
    unless it was trained on the recipe's autoencoder block."""
    from ocbench.detectors.autoencoder import AutoencoderDetector
    from ocbench.detectors.autoencoder_file import read_autoencoder

    run = deep_sad_run(results, normal_class, seed)
    path = json.loads((run / "params.json").read_text()).get("autoencoder")
    if path is None:
        raise SystemExit(f"{run}: no pretrained autoencoder; run the experiment with pretrain: true")
    trained = read_autoencoder(path)[0]
    for key, needed in {**recipe["autoencoder"], "loss": "mean", "init": "deep_sad", "seed": seed}.items():
        value = trained.get(key)
        if (list(value) if isinstance(value, (list, tuple)) else value) != needed:
            raise SystemExit(f"{path}: {key} {value!r}; the reference side trains with {needed!r}")
    _, _, x_test, y_test = data
    return 100 * roc_auc_score(y_test, AutoencoderDetector.load(path).decision_function(x_test))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, "Deep-SAD-PyTorch", seeds="1")
    parser.add_argument("--results", type=Path,
                        help="outdir of the experiment's workflow run with pretrain: true; else ocbench trains here")
    parser.add_argument("--ae-epochs", type=int, help="shorten the autoencoder's recipe, both sides")
    parser.add_argument("--reference-schedule", action="store_true",
                        help="ocbench drops the learning rate when the reference does, one epoch before the milestone")
    parser.add_argument("--out", type=Path, required=True, help="CSV, one row per (class, seed)")
    args = parser.parse_args(argv)
    if args.results and (args.ae_epochs or args.reference_schedule):
        parser.error("--results reads the workflow's autoencoders, trained on the recipe's own epochs and "
                     "milestones: leave out --ae-epochs and --reference-schedule")
    if args.reference_cells:
        parser.error("--reference-cells: the cell files hold Deep SAD's AUROCs, not the autoencoder's")
    recipe = shorten(RECIPE, args.ae_epochs, None)
    ours_recipe = reference_schedule(recipe) if args.reference_schedule else recipe
    check_mirror(args.mirror)
    torch.set_num_threads(args.threads)
    arrays = fmnist_arrays(args.mirror)
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for normal_class in args.classes:
        for seed in args.seeds:
            data = draw(arrays, normal_class, seed)
            start = time.perf_counter()
            theirs = run_reference_pretraining(args.reference, data, seed, recipe, args.same_order)
            middle = time.perf_counter()
            ours = ocbench_pretraining_from_results(args.results, normal_class, seed, data, recipe) \
                if args.results else run_ocbench_pretraining(data, seed, ours_recipe)
            end = time.perf_counter()
            rows.append({"class": normal_class, "seed": seed, "method": "autoencoder",
                         "reference_auroc": round(theirs, 2), "ocbench_auroc": round(ours, 2),
                         "difference": round(ours - theirs, 2), "threads": args.threads,
                         "recipe": recipe_label(recipe, "deep sad"), "order": order_label(args.same_order),
                         "ocbench_milestones": milestones_label(ours_recipe["autoencoder"]["milestones"])})
            print(f"class {normal_class} seed {seed} autoencoder reference {theirs:6.2f} ocbench {ours:6.2f} "
                  f"difference {ours - theirs:+6.2f}  (reference {middle - start:.0f} s, ocbench {end - middle:.0f} s)",
                  flush=True)
            write_csv(args.out, rows)  # after every cell: an interrupted run keeps what it did
    return 0


if __name__ == "__main__":
    sys.exit(main())
