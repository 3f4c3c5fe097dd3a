"""Deep SAD on the same split and recipe: the Deep SAD reference's AUROC beside ocbench's.

For each normal class c and seed, ocbench draws the semi-supervised split of the Deep SAD
paper's scenario (i) on Fashion-MNIST (γ_l = 0.01 known anomalies, all of class
(c + 1) mod 10, γ_p = 0.1 pollution, ``splits.make_split``), and both codes train on
exactly those samples and semi-labels and score the whole test split: the reference
(a checkout of github.com/lukasruff/Deep-SAD-PyTorch: its ``DeepSAD`` class, network,
autoencoder, trainers, centre and test, run as its ``main.py`` runs them) and ocbench's
``DeepSAD`` detector. The recipe and the split's setting are read from
``workflow/experiments/fidelity_fmnist_deep_sad.yaml``: the recipe of the Deep SAD README
(``fmnist_LeNet``, images in [0, 1]; autoencoder 150 epochs, lr 1e-4, milestone 50, batch
128, weight decay 0.5e-3; Deep SAD 150 epochs, lr 1e-4, milestone 50, batch 128, weight
decay 0.5e-6, η = 1; ``drop_last``).

The reference runs unmodified, with ``--pretrain True``: seeded as its ``main.py``, its
network built, its autoencoder trained, the (empty) weight transfer, Deep SAD trained and
tested. Its data go through its own dataset class (``base/torchvision_dataset.py``, whose
``loaders`` are its code, not a copy): the training loader, which serves the pretraining,
the centre pass and the training, is shuffled and drops its last partial batch; the test
loader is neither. The script checks both loaders before it trains. Its pretraining
transfers nothing (the ``encoder.`` key prefix, ``docs/deviations.md``), so the ocbench run
it is compared with is ``pretrain: false``, starting from the reference's weights for the
seed (``init: deep_sad``: the reference builds its network before its autoencoder, so
pretraining does not change them), with ``drop_last`` as the reference's loader. The batch
order is each code's own: the reference's comes from torch's global generator after the
draws of its autoencoder's weights and epochs, ocbench's from a stream of its own
(``training.batch_order``). ocbench's AUROC comes from that experiment's workflow run
(``--results``, its outdir) or from training here, in-process, through the same detector.

    python benchmarks/fidelity/compare_deep_sad.py --reference /tmp/Deep-SAD-PyTorch \
        --classes 0-9 --seeds 1 --out /tmp/fid/deep_sad_seed1.csv

Writes one row per (class, seed), with the thread count and the recipe, and prints the
mean over classes of each side and their difference (target: within 1.5 AUROC).
``--ae-epochs`` / ``--epochs`` shorten both sides' recipe alike (milestones keep their
share of the epochs). ``--same-order`` hands the reference's Deep SAD training ocbench's
batches (``training.batches`` with ``training.batch_order(seed)`` and ``drop_last``, the
centre pass over every sample as ocbench's centre) instead of its own shuffle, so that
only the arithmetic differs; its pretraining then changes nothing (its weights are not
transferred and its draws no longer set the order), and ``--no-reference-pretraining``
leaves it out. ``--components`` checks, in float64 on the split of the first class and
seed, that both codes start from the same weights and centre and take the same first five
Adam steps on the same batch. ``--reference-cells`` takes the reference's AUROCs from
earlier cell files of the same recipe, thread count, batch order and CPU instead of training
it again.
``--order-stream K`` (with ``--same-order``) draws both codes' batches from another
stream of the seed (``harness.order_from_stream``), the initial weights and the split
unchanged: run with a few streams, a cell shows how far the batch order alone moves the
AUROC; its rows carry the stream. ``--reference-schedule`` trains ocbench with every
milestone one epoch earlier, the schedule the reference really runs (it steps its scheduler
at the start of each epoch, ``docs/deviations.md``); the reference trains as it is, so with
``--reference-cells`` of the same recipe, threads, order and CPU only ocbench trains. Every row
records the order the reference trained in (``order``: ``own``, ``ocbench's`` or ``ocbench's
stream K``), ocbench's milestones (``ocbench_milestones``) and whether ocbench's run started
from the pretrained encoder (``ocbench_pretrain``: ``true`` only for a workflow run read with
``--results`` from the experiment with ``pretrain: true``, whose runs must otherwise have the
experiment's recipe).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from by_class import read_cells, write_csv  # noqa: E402
from harness import (ROOT, SameOrderLoaders, add_common_arguments, check_mirror, cpu_label,  # noqa: E402
                     fmnist_arrays, import_reference, milestones_label, order_from_stream,
                     order_label, recipe_label, reference_schedule, reusable_reference, run_directory,
                     seed_like_reference, shorten)

EXPERIMENT = ROOT / "workflow" / "experiments" / "fidelity_fmnist_deep_sad.yaml"
SETTING_NAME = "gamma_l_0.01"
OPTIMISER_KEYS = ("lr", "epochs", "milestones", "batch_size", "weight_decay", "drop_last")


def load_experiment(path: Path = EXPERIMENT) -> tuple[dict, dict]:
    """The recipe (the reference's pretraining and Deep SAD's training blocks, η) and the split
    setting of the Deep SAD fidelity experiment, the one file both the workflow and this
    script train from."""
    config = yaml.safe_load(Path(path).read_text())
    training, dataset = config["training"], config["datasets"]["fmnist"]
    setting = dict(config["settings"][SETTING_NAME])
    # what the reference side of this script is written for
    fixed = {"net": (dataset["net"], "fmnist_lenet"), "preprocessing": (dataset["preprocessing"], "unit"),
             "init": (training["init"], "deep_sad"), "pretrain": (training["pretrain"], False),
             "known_outlier_class": (setting.pop("known_outlier_class"), "next"),
             # the reference's autoencoder averages the squared errors over a sample's pixels
             "training.autoencoder.loss": (training["autoencoder"].get("loss"), "mean"),
             # its one training loader serves the pretraining and the training alike
             "training.autoencoder.drop_last": (training["autoencoder"].get("drop_last", False),
                                                training["network"].get("drop_last", False))}
    for key, (value, needed) in fixed.items():
        if value != needed:
            raise SystemExit(f"{path}: {key} {value!r}; compare_deep_sad.py runs the reference with {needed!r}")
    recipe = {block: {key: training[block].get(key, False) for key in OPTIMISER_KEYS}
              for block in ("autoencoder", "network")}
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


def reference_dataset(checkout: Path, data, same_order_seed: int | None = None, drop_last: bool = False,
                      centre_pass: bool = True):
    """The split in the reference's own dataset class (``base.torchvision_dataset.TorchvisionDataset``):
    its ``loaders`` are the reference's code, batches of (inputs, labels, semi_targets, index).
    With ``same_order_seed`` the training loader yields ocbench's batches instead (``SameOrderLoaders``;
    ``centre_pass`` for Deep SAD's trainer, which first computes its centre, not the autoencoder's)."""
    from torch.utils.data import TensorDataset

    base = import_reference(checkout, "base.torchvision_dataset").TorchvisionDataset
    if same_order_seed is None:
        dataset = base(root=None)
    else:
        dataset = type("SameOrderDataset", (SameOrderLoaders, base), {})(
            root=None, seed=same_order_seed, centre_pass=centre_pass, drop_last=drop_last)
    x_train, semi, x_test, y_test = data
    dataset.train_set = TensorDataset(torch.from_numpy(x_train), torch.zeros(len(x_train), dtype=torch.int64),
                                      torch.from_numpy(semi).long(), torch.arange(len(x_train)))
    dataset.test_set = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test).long(),
                                     torch.zeros(len(x_test), dtype=torch.int64), torch.arange(len(x_test)))
    return dataset


def check_reference_loaders(dataset, recipe: dict) -> None:
    """Stop unless the reference's loaders are what this comparison assumes: the training loader
    (pretraining, centre pass and training alike) drops its last partial batch as the recipe's
    ``drop_last`` says, the test loader scores every test sample."""
    for block in ("autoencoder", "network"):
        train, test = dataset.loaders(batch_size=recipe[block]["batch_size"])
        if train.drop_last != recipe[block]["drop_last"]:
            raise SystemExit(f"the reference's training loader has drop_last={train.drop_last}; set "
                             f"training.{block}.drop_last: {str(train.drop_last).lower()} in {EXPERIMENT.name}")
        if test.drop_last:
            raise SystemExit("the reference's test loader drops its last batch: its AUROC would miss test samples")


def run_reference(checkout: Path, data, seed: int, recipe: dict, same_order: bool = False,
                  pretraining: bool = True) -> float:
    """AUROC (%) of the reference as its main.py with ``--pretrain True``: seeded, network built,
    autoencoder trained (its own loader), Deep SAD trained (its own loader, or ocbench's batches
    with ``same_order``) and tested."""
    deep_sad = import_reference(checkout, "DeepSAD")
    own = reference_dataset(checkout, data)
    check_reference_loaders(own, recipe)
    network = recipe["network"]
    training = reference_dataset(checkout, data, seed, network["drop_last"]) if same_order else own
    seed_like_reference(seed)  # nothing above draws from torch's generator: building a loader draws nothing
    model = deep_sad.DeepSAD(recipe["eta"])
    model.set_network("fmnist_LeNet")
    if pretraining:
        ae = recipe["autoencoder"]
        model.pretrain(own, optimizer_name="adam", lr=ae["lr"], n_epochs=ae["epochs"],
                       lr_milestones=tuple(ae["milestones"]), batch_size=ae["batch_size"],
                       weight_decay=ae["weight_decay"], device="cpu", n_jobs_dataloader=0)
    model.train(training, optimizer_name="adam", lr=network["lr"], n_epochs=network["epochs"],
                lr_milestones=tuple(network["milestones"]), batch_size=network["batch_size"],
                weight_decay=network["weight_decay"], device="cpu", n_jobs_dataloader=0)
    model.test(own, device="cpu", n_jobs_dataloader=0)
    return 100 * model.results["test_auc"]


def run_ocbench(data, seed: int, recipe: dict) -> float:
    """AUROC (%) of ocbench's Deep SAD at ``pretrain: false``, from the reference's initial weights."""
    from sklearn.metrics import roc_auc_score

    from ocbench.detectors.deep_sad import DeepSAD

    x_train, semi, x_test, y_test = data
    network = recipe["network"]
    detector = DeepSAD(net="fmnist_lenet", eta=recipe["eta"], lr=network["lr"], epochs=network["epochs"],
                       milestones=tuple(network["milestones"]), batch_size=network["batch_size"],
                       weight_decay=network["weight_decay"], drop_last=network["drop_last"], init="deep_sad",
                       seed=seed).fit(x_train, semi)
    return 100 * roc_auc_score(y_test, detector.decision_function(x_test))


def deep_sad_run(results: Path, normal_class: int, seed: int) -> Path:
    """The run directory of the workflow's Deep SAD run of the cell (setting
    ``gamma_l_0.01.k<(c + 1) mod 10>``)."""
    from ocbench.config.names import known_setting_name

    setting = known_setting_name(SETTING_NAME, (normal_class + 1) % 10)
    return run_directory(results, setting, normal_class, seed, "deep_sad")


def handed_autoencoder(run: Path) -> Path:
    """The pretrained autoencoder file the workflow's Deep SAD run (its directory,
    ``deep_sad_run``) was handed; refused in one line for a run without one (``pretrain: false``)."""
    path = json.loads((run / "params.json").read_text()).get("autoencoder")
    if path is None:
        raise SystemExit(f"{run}: no pretrained autoencoder; run the experiment with pretrain: true")
    return Path(path)


def ocbench_from_results(results: Path, normal_class: int, seed: int, recipe: dict) -> tuple[float, bool]:
    """AUROC (%) of the workflow's Deep SAD run of the cell (setting ``gamma_l_0.01.k<(c + 1) mod 10>``)
    and whether that run started from the pretrained autoencoder's encoder (``pretrain: true``,
    which the experiment file may be overridden to). A run trained on another recipe than
    the one the reference side takes (the experiment file's) is refused in one line."""
    run = deep_sad_run(results, normal_class, seed)
    params = json.loads((run / "params.json").read_text())
    trained = params["hyper_parameters"]
    for key, needed in {**recipe["network"], "eta": recipe["eta"]}.items():
        value = trained.get(key)
        if (list(value) if isinstance(value, (list, tuple)) else value) != needed:
            raise SystemExit(f"{run}: {key} {value!r}; the reference side trains with {needed!r} "
                             f"({EXPERIMENT.name}): run the workflow on its recipe")
    auroc = 100 * json.loads((run / "metrics.json").read_text())["auroc"]
    return auroc, params.get("autoencoder") is not None


def check_components(checkout: Path, data, seed: int, recipe: dict, steps: int = 5) -> None:
    """Float64, same weights, same batch: initial weights, centre, and the losses and weights of ``steps`` Adam steps."""
    from ocbench.detectors.objectives import deep_sad_loss, init_center, squared_distance
    from ocbench.nets import build_network
    from ocbench.nets.reference_init import apply_init

    network, eta = recipe["network"], recipe["eta"]
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
    optimizers = [torch.optim.Adam(net.parameters(), lr=network["lr"], weight_decay=network["weight_decay"])
                  for net in (theirs, ours)]
    theirs.train(), ours.train()
    for step in range(steps):
        losses = []
        for net, optimizer in zip((theirs, ours), optimizers):
            optimizer.zero_grad()
            dist = squared_distance(net(x[batch]), center)
            if net is theirs:  # the reference trainer's own expression
                loss = torch.mean(torch.where(semi[batch] == 0, dist, eta * ((dist + 1e-6) ** semi[batch].double())))
            else:
                loss = deep_sad_loss(dist, semi[batch], eta, 1e-6)
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
    parser.add_argument("--ae-epochs", type=int, help="shorten the reference's pretraining (milestones scaled)")
    parser.add_argument("--epochs", type=int, help="shorten Deep SAD's training, both sides (milestones scaled)")
    parser.add_argument("--no-reference-pretraining", action="store_true",
                        help="with --same-order: leave out the reference's pretraining, which then changes nothing")
    parser.add_argument("--order-stream", type=int,
                        help="with --same-order: both codes' batches from this stream of the seed (3 or more), "
                             "the initial weights unchanged")
    parser.add_argument("--reference-schedule", action="store_true",
                        help="ocbench drops the learning rate when the reference does, one epoch before the milestone")
    parser.add_argument("--out", type=Path, required=True, help="CSV, one row per (class, seed)")
    args = parser.parse_args(argv)
    if args.results and args.reference_schedule:
        parser.error("--results reads the workflow's runs, trained on the recipe's own milestones: "
                     "leave out --reference-schedule")
    if args.results and args.components:
        parser.error("--components compares the two codes step by step here: leave out --results")
    if args.results and (args.ae_epochs or args.epochs):
        parser.error("--results reads the workflow's runs of the experiment's recipe: leave out --ae-epochs/--epochs")
    if args.no_reference_pretraining and not args.same_order:
        parser.error("--no-reference-pretraining: in its own order the pretraining's draws set the reference's "
                     "batches; only with --same-order does it change nothing")
    if args.order_stream is not None and not args.same_order:
        parser.error("--order-stream sets the batches ocbench hands both codes: add --same-order")
    if args.order_stream is not None and args.results:
        parser.error("--order-stream: the workflow's runs are in ocbench's own order; leave out --results")
    order = order_from_stream(args.order_stream) if args.order_stream is not None else contextlib.nullcontext()
    with order:
        return compare(args)


def compare(args) -> int:
    """Train (or read) both sides of every cell, write the rows, print the mean over cells."""
    recipe = shorten(RECIPE, args.ae_epochs, args.epochs)
    ours_recipe = reference_schedule(recipe) if args.reference_schedule else recipe
    label = recipe_label(recipe, "deep sad")
    order, cpu = order_label(args.same_order, args.order_stream), cpu_label()
    # (class, seed) -> the reference's AUROC, from earlier cell files of this recipe, thread count, batch order and CPU
    known = {(cell["class"], cell["seed"]): cell["reference_auroc"]
             for cell in reusable_reference(read_cells(args.reference_cells), label, args.threads, order, cpu)}
    check_mirror(args.mirror)
    torch.set_num_threads(args.threads)
    stream = "" if args.order_stream is None else f", batch order from stream {args.order_stream} of the seed"
    ours_milestones = milestones_label(ours_recipe["network"]["milestones"])
    print(f"recipe: {label}; η {recipe['eta']}; setting: {SETTING}, known anomaly class (c + 1) mod 10, "
          f"init deep_sad, {args.threads} thread(s){stream}; ocbench's milestones {ours_milestones}")
    arrays = fmnist_arrays(args.mirror)
    if args.components:
        check_components(args.reference, draw(arrays, args.classes[0], args.seeds[0]), args.seeds[0], recipe)
        return 0
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for normal_class in args.classes:
        for seed in args.seeds:
            data = draw(arrays, normal_class, seed)
            start = time.perf_counter()
            reused = (normal_class, seed) in known
            theirs = known[normal_class, seed] if reused else run_reference(
                args.reference, data, seed, recipe, args.same_order, not args.no_reference_pretraining)
            middle = time.perf_counter()
            reference_time = "from the cell files" if reused else f"{middle - start:.0f} s"
            ours, transfer = ocbench_from_results(args.results, normal_class, seed, recipe) if args.results \
                else (run_ocbench(data, seed, ours_recipe), False)
            end = time.perf_counter()
            rows.append({"class": normal_class, "seed": seed, "method": "deep_sad", "reference_auroc": round(theirs, 2),
                         "ocbench_auroc": round(ours, 2), "difference": round(ours - theirs, 2),
                         "threads": args.threads, "recipe": label, "order": order,
                         "ocbench_milestones": ours_milestones, "ocbench_pretrain": str(transfer).lower(), "cpu": cpu,
                         **({} if args.order_stream is None else {"order_stream": args.order_stream})})
            print(f"class {normal_class} seed {seed} deep_sad reference {theirs:6.2f} ocbench {ours:6.2f} "
                  f"difference {ours - theirs:+6.2f}  (reference {reference_time}, "
                  f"ocbench {end - middle:.0f} s)",
                  flush=True)
            write_csv(args.out, rows)  # after every cell: an interrupted run keeps what it did
    reference = statistics.fmean(r["reference_auroc"] for r in rows)
    ocbench = statistics.fmean(r["ocbench_auroc"] for r in rows)
    # the target is for the codes' agreement: with the transfer ocbench runs another method than the reference
    target = "ocbench started from the pretrained encoder, the reference did not: no target" \
        if any(row["ocbench_pretrain"] == "true" for row in rows) else "target: within 1.5"
    print(f"mean over {len(rows)} cells: reference {reference:.2f}, ocbench {ocbench:.2f}, "
          f"difference {ocbench - reference:+.2f} ({target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
