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

``--arithmetic`` asks whether a difference is the codes' or float32 rounding's: ``float64``
trains and scores both codes in float64 (the weights drawn in float32 as always, then
converted; the [0, 1] images convert exactly), so rounding is some nine digits smaller and
a difference of the codes would remain; ``nudged`` moves every initial weight of both
autoencoders one float32 step up (``torch.nextafter``), a change the size of one rounding,
so each code's own shift from its float32 row is how far rounding alone moves the cell;
``float32-plain`` stays in float32 with ocbench's LeNets computed as the reference computes
them (``plain_layers``: NCHW tensors, every upsample then transposed convolution layer by
layer), so what remains of a float32 difference is not ocbench's two CPU speed devices'.

    python benchmarks/fidelity/compare_pretraining.py --reference /tmp/Deep-SAD-PyTorch \
        --results /tmp/xfer/results --classes 0 --seeds 1 --same-order --out /tmp/xfer/ae_0.csv
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from by_class import write_csv  # noqa: E402
from compare_deep_sad import (RECIPE, check_reference_loaders, deep_sad_run, draw,  # noqa: E402
                              handed_autoencoder, reference_dataset)
from harness import (ARITHMETIC, add_common_arguments, check_mirror, cpu_label, fmnist_arrays,  # noqa: E402
                     import_reference, in_dtype, milestones_label, ocbench_arithmetic, order_label, recipe_label,
                     reference_builds_in, reference_schedule, seed_like_reference, shorten, timed)


def run_reference_pretraining(checkout: Path, data, seed: int, recipe: dict, same_order: bool,
                              arithmetic: str = "float32") -> float:
    """AUROC (%) of the reference's pretrained autoencoder, as ``DeepSAD.pretrain`` tests it (in
    ``arithmetic``: its autoencoder changed as ``ARITHMETIC`` says right after it is built)."""
    deep_sad = import_reference(checkout, "DeepSAD")
    dtype = reference_builds_in(deep_sad, "build_autoencoder", arithmetic)  # the name DeepSAD.pretrain calls
    data = in_dtype(data, dtype)
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
    if next(model.ae_net.parameters()).dtype != dtype:
        raise SystemExit(f"the reference's autoencoder trained in {next(model.ae_net.parameters()).dtype}, "
                         f"not {dtype}: DeepSAD.pretrain no longer builds it through build_autoencoder")
    return 100 * model.ae_results["test_auc"]


def run_ocbench_pretraining(data, seed: int, recipe: dict, arithmetic: str = "float32") -> float:
    """AUROC (%) of ocbench's autoencoder trained here as the workflow's pretraining trains it."""
    from ocbench.detectors.autoencoder import AutoencoderDetector

    x_train, _, x_test, y_test = data
    ae = recipe["autoencoder"]
    with ocbench_arithmetic(arithmetic):
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

    path = handed_autoencoder(deep_sad_run(results, normal_class, seed))
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
    parser.add_argument("--arithmetic", choices=list(ARITHMETIC), default="float32",
                        help="float64: both codes in float64; nudged: both from weights one float32 step up; "
                             "float32-plain: ocbench's LeNets without their CPU speed devices")
    parser.add_argument("--side-by-side", action="store_true",
                        help="each cell's two codes in two processes at once (--threads each)")
    parser.add_argument("--out", type=Path, required=True, help="CSV, one row per (class, seed)")
    args = parser.parse_args(argv)
    if args.results and (args.ae_epochs or args.reference_schedule or args.arithmetic != "float32"):
        parser.error("--results reads the workflow's autoencoders, trained in float32 on the recipe's own epochs "
                     "and milestones: leave out --ae-epochs, --reference-schedule and --arithmetic")
    if args.reference_cells:
        parser.error("--reference-cells: the cell files hold Deep SAD's AUROCs, not the autoencoder's")
    recipe = shorten(RECIPE, args.ae_epochs, None)
    ours_recipe = reference_schedule(recipe) if args.reference_schedule else recipe
    cpu = cpu_label()  # the same for every cell: the workers of --side-by-side run on this machine
    check_mirror(args.mirror)
    arrays = fmnist_arrays(args.mirror)
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) if args.side_by_side else None
    for normal_class in args.classes:
        for seed in args.seeds:
            data = draw(arrays, normal_class, seed)
            reference = (run_reference_pretraining, args.reference, data, seed, recipe, args.same_order,
                         args.arithmetic)
            ocbench = (ocbench_pretraining_from_results, args.results, normal_class, seed, data, recipe) \
                if args.results else (run_ocbench_pretraining, data, seed, ours_recipe, args.arithmetic)
            if pool:
                futures = [pool.submit(timed, args.threads, *job) for job in (reference, ocbench)]
                (theirs, their_seconds), (ours, our_seconds) = [future.result() for future in futures]
            else:
                (theirs, their_seconds), (ours, our_seconds) = [timed(args.threads, *job)
                                                                for job in (reference, ocbench)]
            rows.append({"class": normal_class, "seed": seed, "method": "autoencoder",
                         "reference_auroc": round(theirs, 4), "ocbench_auroc": round(ours, 4),
                         "difference": round(ours - theirs, 4), "threads": args.threads,
                         "recipe": recipe_label(recipe, "deep sad"), "order": order_label(args.same_order),
                         "ocbench_milestones": milestones_label(ours_recipe["autoencoder"]["milestones"]),
                         "arithmetic": args.arithmetic, "cpu": cpu})
            print(f"class {normal_class} seed {seed} autoencoder reference {theirs:7.4f} ocbench {ours:7.4f} "
                  f"difference {ours - theirs:+7.4f}  (reference {their_seconds:.0f} s, ocbench {our_seconds:.0f} s"
                  f"{', side by side' if pool else ''})", flush=True)
            write_csv(args.out, rows)  # after every cell: an interrupted run keeps what it did
    if pool:
        pool.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
