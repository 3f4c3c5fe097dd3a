"""Same classes, same seeds, same recipe: AUROC of the Deep SVDD reference beside ocbench's.

Runs the reference implementation (a checkout of github.com/lukasruff/Deep-SVDD-PyTorch)
on one-class Fashion-MNIST for each normal class and seed, with the recipe of
``workflow/experiments/fidelity_fmnist.yaml``, and takes ocbench's AUROC of the same
cell either from that experiment's results (``--results``, the workflow's run
directories) or by running ocbench here, in-process, through the same detectors the
workflow uses. Writes one row per (class, seed, method) and, in ``<out>_by_class.csv``,
the mean ± std over seeds per (class, method) on both sides and their difference.

    python benchmarks/fidelity/compare_reference.py --reference /tmp/Deep-SVDD-PyTorch \
        --classes 5,8 --seeds 1 --out results/fidelity_fmnist/reference.csv

``--ae-epochs`` / ``--epochs`` shorten both sides' recipe alike (milestones scaled), for a
cheap check; ``--train-subset`` / ``--test-subset`` take the first images only (a smoke
test; say so when reporting). ``--reference-cells`` takes the reference's AUROCs of the
cells that earlier runs' CSVs hold at the same recipe, thread count, batch order and CPU (the
reference code does not change, so only ocbench trains again after a change of ocbench;
the reference's AUROC does change with torch's thread count, with its batches and with the
CPU's vector instructions, which every cell records as ``threads``, ``order`` and ``cpu``)
and runs the reference for the others.
``--same-order`` hands the reference's trainings (autoencoder and Deep SVDD) ocbench's
batches instead of its own shuffle, so that only the arithmetic differs between the two
codes: what is left of a same-seed difference then is not the batch order.
``--reference-schedule`` runs ocbench with every milestone one epoch earlier, the schedule
the reference really runs (it drops the rate one epoch before its milestone, ocbench
after it: ``docs/deviations.md``); with both options the two codes train alike.

Methods: ``cae`` (the autoencoder's reconstruction error; the reference's is its
pretraining autoencoder's test AUROC), ``deep_svdd_oneclass``, ``deep_svdd_softboundary``.
On one CPU thread a 50 + 50-epoch cell takes minutes per side.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from by_class import by_class, read_cells, write_csv  # noqa: E402
from harness import (OBJECTIVES, add_common_arguments, auroc_from_results, check_mirror, cpu_label,  # noqa: E402
                     load_fmnist, load_recipe, milestones_label, order_label, recipe_label, reference_schedule,
                     reusable_reference, run_ocbench, run_reference, shorten)

METHODS = ("cae", *OBJECTIVES)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, "Deep-SVDD-PyTorch", seeds="1-5")
    parser.add_argument("--methods", default="cae,deep_svdd_oneclass,deep_svdd_softboundary")
    parser.add_argument("--reference-schedule", action="store_true",
                        help="ocbench drops the learning rate when the reference does, one epoch before the milestone")
    parser.add_argument("--results", type=Path, help="the fidelity experiment's outdir; else ocbench runs here")
    parser.add_argument("--ae-epochs", type=int, help="shorten the autoencoder's recipe (both sides)")
    parser.add_argument("--epochs", type=int, help="shorten the Deep SVDD recipe (both sides)")
    parser.add_argument("--train-subset", type=int, help="first N training images of the class only")
    parser.add_argument("--test-subset", type=int, help="first N test images only")
    parser.add_argument("--out", type=Path, required=True, help="CSV of the cells; <out>_by_class.csv beside it")
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown method {unknown[0]!r}; allowed: {', '.join(METHODS)}")
    check_mirror(args.mirror)
    shortened = args.ae_epochs or args.epochs or args.train_subset or args.test_subset
    if args.results and shortened:
        raise SystemExit("--results reads the full recipe's runs: leave out the shortening options")
    if args.results and args.reference_schedule:
        raise SystemExit("--results reads the workflow's runs, trained on the recipe's own milestones: "
                         "leave out --reference-schedule")
    if args.reference_cells and (args.train_subset or args.test_subset):
        raise SystemExit("--reference-cells holds the AUROCs of whole splits: leave out --train-subset/--test-subset")
    recipe = shorten(load_recipe(), args.ae_epochs, args.epochs)
    ours_recipe = reference_schedule(recipe) if args.reference_schedule else recipe
    label, order, cpu = recipe_label(recipe, "deep svdd"), order_label(args.same_order), cpu_label()
    # both blocks move alike under --reference-schedule: the network's milestones say which schedule ocbench ran
    ours_milestones = milestones_label(ours_recipe["network"]["milestones"])
    # (class, seed, method) -> the reference's AUROC, from earlier cell files of this recipe, threads, order and CPU
    known = {(cell["class"], cell["seed"], cell["method"]): cell["reference_auroc"]
             for cell in reusable_reference(read_cells(args.reference_cells), label, args.threads, order, cpu)}

    import torch

    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    print(f"recipe: autoencoder {recipe['autoencoder']}, network {recipe['network']}, init {recipe['init']}")
    objectives = [m for m in methods if m in OBJECTIVES]
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for normal_class in args.classes:
        data = load_fmnist(args.mirror, normal_class, args.train_subset, args.test_subset)
        for seed in args.seeds:
            start = time.perf_counter()
            reused = all((normal_class, seed, method) in known for method in methods)
            theirs = {method: known[normal_class, seed, method] for method in methods} if reused \
                else run_reference(args.reference, data, seed, recipe, objectives, args.same_order)
            middle = time.perf_counter()
            reference_time = "from the cell files" if reused else f"{middle - start:.0f} s"
            ours = auroc_from_results(args.results, "one_class", normal_class, seed, methods) if args.results \
                else run_ocbench(data, seed, ours_recipe, objectives)
            end = time.perf_counter()
            for method in methods:
                rows.append({"class": normal_class, "seed": seed, "method": method,
                             "reference_auroc": round(theirs[method], 2), "ocbench_auroc": round(ours[method], 2),
                             "difference": round(ours[method] - theirs[method], 2), "threads": args.threads,
                             "recipe": label, "order": order, "ocbench_milestones": ours_milestones, "cpu": cpu})
                print(f"class {normal_class} seed {seed} {method:24s} reference {theirs[method]:6.2f} "
                      f"ocbench {ours[method]:6.2f} difference {ours[method] - theirs[method]:+6.2f}")
            print(f"  (reference {reference_time}, ocbench {end - middle:.0f} s)", flush=True)
            write_csv(args.out, rows)  # after every cell: an interrupted run keeps what it did
    summary = by_class(rows)
    write_csv(args.out.with_name(args.out.stem + "_by_class.csv"), summary)
    print(f"wrote {args.out} and {args.out.stem}_by_class.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
