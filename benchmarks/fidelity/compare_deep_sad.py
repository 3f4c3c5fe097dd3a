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
AUROC; its rows carry the stream. ``--ocbench-only`` trains ocbench alone, in its own order
or in that of ``--order-stream K``, and writes its AUROC per cell without a reference: on
the same batches the codes agree, so one code on a third order says which of the two own
orders is the unusual one in a cell, in ocbench's time alone. ``--reference-schedule``
trains ocbench with every milestone one epoch earlier, the schedule the reference really
runs (it steps its scheduler at the start of each epoch, ``docs/deviations.md``); the reference trains as it is, so with
``--reference-cells`` of the same recipe, threads, order and CPU only ocbench trains. Every row
records the order the reference trained in (``order``: ``own``, ``ocbench's``, ``ocbench's
stream K`` or ``the reference's, replayed``), ocbench's milestones (``ocbench_milestones``)
and whether ocbench's run started from the pretrained encoder (``ocbench_pretrain``: ``true``
only for a workflow run read with ``--results`` from the experiment with ``pretrain: true``,
whose runs must otherwise have the experiment's recipe).
``--reference-order`` goes the other way: both codes train on the batches the reference
draws in its own order, replayed without training (``reference_passes``: seeded as its
main.py, its network and autoencoder built, every loader pass of its pretraining made over
the samples' indices), ocbench's centre over the samples of its centre pass
(``DeepSADCentreOver``), the reference without its pretraining, whose draws the replay has
spent; its rows record the order ``the reference's, replayed``. ``--check-replay`` checks
the replay on the first class and seed: the reference as it is, every pass of its training
loaders recorded, beside the replay, whose passes must be its last ones and whose AUROC
must be its own to the last digit (shorten it with ``--ae-epochs``/``--epochs``).
``--own-centres`` trains nothing: for each cell, the reference's own-order centre (over its
replayed centre pass) against the centre over every sample, on the initial weights.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import yaml

from ocbench.detectors.deep_sad import DeepSAD
from ocbench.detectors.objectives import CENTER_EPS, init_center

sys.path.insert(0, str(Path(__file__).resolve().parent))
from by_class import read_cells, write_csv  # noqa: E402
from harness import (ARITHMETIC, ROOT, RecordedLoaders, SameOrderLoaders, add_common_arguments,  # noqa: E402
                     check_mirror, cpu_label, fmnist_arrays, import_reference, in_dtype, milestones_label,
                     ocbench_arithmetic, ocbench_trains_on, order_from_stream, order_label, recipe_label,
                     reference_builds_in, reference_schedule, reusable_reference, run_directory,
                     seed_like_reference, shorten, timed)

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


@dataclass
class Replay:
    """The reference's own batches (``reference_passes``) handed to both codes: ``passes[0]``
    its centre pass (a shuffled n - n mod batch of the n samples), then one pass per epoch."""

    passes: list

    def centre_samples(self) -> list[int]:
        """The samples of the centre pass, whose mean code ocbench's centre is made."""
        return sorted(i for batch in self.passes[0] for i in batch)


def order_name(args) -> str:
    """The batch order the reference trains in, as each cell records it (``harness.order_label``
    and the replay of its own)."""
    if args.reference_order:
        return "the reference's, replayed"
    return order_label(args.same_order, args.order_stream)


def reference_dataset(checkout: Path, data, same_order_seed: int | None = None, drop_last: bool = False,
                      centre_pass: bool = True, replay: Replay | None = None, record: list | None = None):
    """The split in the reference's own dataset class (``base.torchvision_dataset.TorchvisionDataset``):
    its ``loaders`` are the reference's code, batches of (inputs, labels, semi_targets, index).
    With ``same_order_seed`` the training loader yields ocbench's batches instead (``SameOrderLoaders``;
    ``centre_pass`` for Deep SAD's trainer, which first computes its centre, not the autoencoder's);
    with ``replay``, the replayed passes of its own order; with ``record``, its own loaders,
    each pass of a training loader appended to ``record``."""
    from torch.utils.data import TensorDataset

    base = import_reference(checkout, "base.torchvision_dataset").TorchvisionDataset
    x_train, semi, x_test, y_test = data
    if same_order_seed is not None:
        dataset = type("SameOrderDataset", (SameOrderLoaders, base), {})(
            root=None, seed=same_order_seed, centre_pass=centre_pass, drop_last=drop_last)
    elif replay is not None:
        dataset = type("ReplayDataset", (RecordedLoaders, base), {})(root=None, passes=replay.passes)
    elif record is not None:
        dataset = type("RecordingDataset", (RecordingLoaders, base), {})(root=None, record=record)
    else:
        dataset = base(root=None)
    dataset.train_set = TensorDataset(torch.from_numpy(x_train), torch.zeros(len(x_train), dtype=torch.int64),
                                      torch.from_numpy(semi).long(), torch.arange(len(x_train)))
    dataset.test_set = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test).long(),
                                     torch.zeros(len(x_test), dtype=torch.int64), torch.arange(len(x_test)))
    return dataset


class RecordingLoaders:
    """Mixed into the reference's dataset class: its own loaders, every pass of a training
    loader appended to ``record`` as the index lists of its batches (``--check-replay``)."""

    def __init__(self, *arrays, record: list, **keywords):
        super().__init__(*arrays, **keywords)
        self.record = record

    def loaders(self, batch_size, shuffle_train=True, shuffle_test=False, num_workers=0):
        train, test = super().loaders(batch_size, shuffle_train, shuffle_test, num_workers)
        return RecordingLoader(train, self.record), test


@dataclass
class RecordingLoader:
    """A training loader that appends the index lists of each pass's batches to ``record``."""

    loader: object
    record: list

    def __iter__(self):
        self.record.append([])
        for batch in self.loader:
            self.record[-1].append(batch[3].tolist())
            yield batch


def reference_passes(checkout: Path, data, seed: int, recipe: dict) -> list:
    """The batches of every pass the reference's Deep SAD training loader makes in its own
    order (``run_reference`` with its pretraining): its centre pass's, then each epoch's, as
    index lists. Replayed, not trained: seeded as its main.py, its network and autoencoder
    built, then each pass of its own loaders that its pretraining makes (a pass draws from
    torch's generator the loader's base seed and, shuffled, the sampler's seed; training
    draws nothing else: the LeNets have no dropout), then Deep SAD's. The loaders are its own
    code over the samples' indices only: what they draw depends on the number of samples,
    not on the images. ``--check-replay`` compares the passes with those of a run that trains."""
    from torch.utils.data import TensorDataset

    deep_sad, nets = import_reference(checkout, "DeepSAD"), import_reference(checkout, "networks.main")
    indices = import_reference(checkout, "base.torchvision_dataset").TorchvisionDataset(root=None)
    indices.train_set, indices.test_set = (TensorDataset(torch.arange(len(part))) for part in (data[0], data[2]))
    seed_like_reference(seed)
    deep_sad.DeepSAD(recipe["eta"]).set_network("fmnist_LeNet")
    ae = recipe["autoencoder"]
    nets.build_autoencoder("fmnist_LeNet")
    train, _ = indices.loaders(batch_size=ae["batch_size"])
    for _ in range(ae["epochs"]):
        for _ in train:
            pass
    _, test = indices.loaders(batch_size=ae["batch_size"])  # its autoencoder's test
    for _ in test:
        pass
    train, _ = indices.loaders(batch_size=recipe["network"]["batch_size"])
    return [[batch.tolist() for batch, in train] for _ in range(1 + recipe["network"]["epochs"])]


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


def run_reference(checkout: Path, data, seed: int, recipe: dict, order="own", pretraining: bool = True,
                  record: list | None = None, arithmetic: str = "float32") -> float:
    """AUROC (%) of the reference as its main.py with ``--pretrain True``: seeded, network built,
    autoencoder trained (its own loader), Deep SAD trained and tested. Deep SAD trains in
    ``order``: its own loader (``"own"``), ocbench's batches (``"ocbench's"``) or a ``Replay``;
    ``record`` collects every pass of its own training loaders (``RecordingLoaders``).
    ``arithmetic`` (``harness.ARITHMETIC``): its network changed so right after it is drawn,
    the images in its dtype, and in float64 its centre's accumulator too (``torch.zeros`` of
    the default dtype)."""
    deep_sad = import_reference(checkout, "DeepSAD")
    dtype = reference_builds_in(deep_sad, "build_network", arithmetic)  # the name DeepSAD.set_network calls
    data = in_dtype(data, dtype)
    plain = reference_dataset(checkout, data)
    check_reference_loaders(plain, recipe)
    own = plain if record is None else reference_dataset(checkout, data, record=record)
    network = recipe["network"]
    training = reference_dataset(checkout, data, seed, network["drop_last"]) if order == "ocbench's" \
        else reference_dataset(checkout, data, replay=order) if isinstance(order, Replay) else own
    seed_like_reference(seed)  # nothing above draws from torch's generator: building a loader draws nothing
    model = deep_sad.DeepSAD(recipe["eta"])
    model.set_network("fmnist_LeNet")
    if pretraining:
        ae = recipe["autoencoder"]
        model.pretrain(own, optimizer_name="adam", lr=ae["lr"], n_epochs=ae["epochs"],
                       lr_milestones=tuple(ae["milestones"]), batch_size=ae["batch_size"],
                       weight_decay=ae["weight_decay"], device="cpu", n_jobs_dataloader=0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model.train(training, optimizer_name="adam", lr=network["lr"], n_epochs=network["epochs"],
                    lr_milestones=tuple(network["milestones"]), batch_size=network["batch_size"],
                    weight_decay=network["weight_decay"], device="cpu", n_jobs_dataloader=0)
        model.test(plain, device="cpu", n_jobs_dataloader=0)
    finally:
        torch.set_default_dtype(default)
    if model.trainer.c.dtype != dtype or next(model.net.parameters()).dtype != dtype:
        raise SystemExit(f"the reference's Deep SAD trained in {next(model.net.parameters()).dtype} with a "
                         f"{model.trainer.c.dtype} centre, not {dtype}: DeepSAD.set_network no longer builds it "
                         f"through build_network")
    return 100 * model.results["test_auc"]


def run_ocbench(data, seed: int, recipe: dict, replay: Replay | None = None, arithmetic: str = "float32") -> float:
    """AUROC (%) of ocbench's Deep SAD at ``pretrain: false``, from the reference's initial weights;
    with ``replay``, on the reference's own batches and centre pass (``Replay``); in
    ``arithmetic`` (``harness.ocbench_arithmetic``)."""
    from sklearn.metrics import roc_auc_score

    x_train, semi, x_test, y_test = data
    network = recipe["network"]
    detector = DeepSADCentreOver(net="fmnist_lenet", eta=recipe["eta"], lr=network["lr"], epochs=network["epochs"],
                                 milestones=tuple(network["milestones"]), batch_size=network["batch_size"],
                                 weight_decay=network["weight_decay"], drop_last=network["drop_last"],
                                 init="deep_sad", seed=seed)
    if replay is not None:
        detector.centre_samples = replay.centre_samples()
    with ocbench_arithmetic(arithmetic), \
            (ocbench_trains_on(replay.passes[1:]) if replay is not None else contextlib.nullcontext()):
        detector.fit(x_train, semi)
        return 100 * roc_auc_score(y_test, detector.decision_function(x_test))


class DeepSADCentreOver(DeepSAD):
    """ocbench's ``DeepSAD`` with its centre the mean code of the samples ``centre_samples``
    only, as the reference's centre pass over its shuffled loader that drops its last partial
    batch; over every sample, as ``DeepSAD``, when None. (At the README's recipe without the
    transfer the two centres are equal, ``--own-centres``: this keeps the replay exact
    wherever they are not.)"""

    centre_samples: list[int] | None = None

    def begin_fit(self, X, y):
        tensors, state = super().begin_fit(X, y)
        if self.centre_samples is None:
            return tensors, state
        self.c_ = init_center(self.codes(tensors[0][torch.as_tensor(self.centre_samples)]))
        return tensors, [self.c_]


def cell_format(args) -> tuple[int, dict]:
    """How every row of a run is written: the decimals of its AUROCs (two in float32; four in
    another arithmetic, which asks whether the codes are equal) and the columns only some
    runs have (the stream, the arithmetic), the same for every cell of the run."""
    digits = 2 if args.arithmetic == "float32" else 4
    extra = {**({} if args.order_stream is None else {"order_stream": args.order_stream}),
             **({} if args.arithmetic == "float32" else {"arithmetic": args.arithmetic})}
    return digits, extra


def ocbench_alone(args, arrays, recipe: dict, label: str) -> int:
    """``--ocbench-only``: ocbench's AUROC of every cell, in its own order or in that of
    ``--order-stream``; no reference. The codes agree on the same batches (the same-order
    cells), so one code on a third order tells which of two orders, the reference's own and
    ocbench's own, is the unusual one in a cell, without the reference's time."""
    order = "ocbench alone, its own" if args.order_stream is None else f"ocbench alone, stream {args.order_stream}"
    milestones, cpu = milestones_label(recipe["network"]["milestones"]), cpu_label()  # once: the same for every cell
    digits, extra = cell_format(args)
    rows = []
    for normal_class in args.classes:
        for seed in args.seeds:
            (ours, _), seconds = timed(args.threads, ocbench_here, draw(arrays, normal_class, seed), seed, recipe,
                                       None, args.arithmetic)
            rows.append({"class": normal_class, "seed": seed, "method": "deep_sad",
                         "ocbench_auroc": round(ours, digits),
                         "threads": args.threads, "recipe": label, "order": order,
                         "ocbench_milestones": milestones, "cpu": cpu, **extra})
            print(f"class {normal_class} seed {seed} deep_sad ocbench {ours:6.{digits}f} ({order}; {seconds:.0f} s)",
                  flush=True)
            write_csv(args.out, rows)  # after every cell: an interrupted run keeps what it did
    print(f"mean over {len(rows)} cells: ocbench {statistics.fmean(r['ocbench_auroc'] for r in rows):.2f}")
    return 0


def ocbench_here(data, seed: int, recipe: dict, replay: Replay | None, arithmetic: str) -> tuple[float, bool]:
    """``run_ocbench``'s AUROC and that it started without the transfer, as ``ocbench_from_results``
    answers (a function of this module, which a worker process of ``--side-by-side`` can run)."""
    return run_ocbench(data, seed, recipe, replay, arithmetic), False


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
    from ocbench.detectors.objectives import deep_sad_loss, squared_distance
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


def check_replay(checkout: Path, data, seed: int, recipe: dict) -> int:
    """The reference as it is (its pretraining, its own order), every pass of its training
    loaders recorded, beside ``reference_passes``' replay: the replayed passes must be the
    last ones it made, and the reference trained on them (``Replay``, no pretraining) must
    reach the same AUROC to the last digit. Prints both; 1 when either differs."""
    recorded = []
    as_it_is = run_reference(checkout, data, seed, recipe, "own", True, record=recorded)
    passes = reference_passes(checkout, data, seed, recipe)
    replayed = run_reference(checkout, data, seed, recipe, Replay(passes), False)
    same_passes = recorded[-len(passes):] == passes
    print(f"passes: the reference's run made {len(recorded)}, the replay gives its last {len(passes)}: "
          f"{'equal' if same_passes else 'DIFFERENT'}")
    print(f"AUROC: as it is {as_it_is!r}, on the replayed passes {replayed!r}: "
          f"{'equal' if as_it_is == replayed else 'DIFFERENT'}")
    return 0 if same_passes and as_it_is == replayed else 1


def own_centre_row(checkout: Path, data, seed: int, recipe: dict) -> dict:
    """How the reference's centre in its own order (the mean code over its centre pass: a
    shuffled loader that drops its last partial batch, replayed by ``reference_passes``)
    differs from the centre over every sample (ocbench's, and the reference's on ocbench's
    batches), on the initial weights both codes start from (``init: deep_sad``). Each mean
    coordinate within eps of 0 becomes +-eps by its sign (``init_center``, the reference's
    rule), so the two centres differ where a coordinate is not pushed or its sign differs."""
    x_train = data[0]
    samples = Replay(reference_passes(checkout, data, seed, recipe)).centre_samples()
    detector = DeepSAD(net="fmnist_lenet", init="deep_sad", seed=seed)
    x = detector.setup_network(x_train)
    detector.network_.eval()
    codes = detector.codes(x)
    pass_codes = codes[torch.as_tensor(samples)]
    every, own = codes.mean(0), pass_codes.mean(0)
    centre_every, centre_own = init_center(codes), init_center(pass_codes)
    return {"samples": len(x_train), "centre_pass_samples": len(samples),
            "coordinates": len(every), "pushed_to_eps": int((every.abs() < CENTER_EPS).sum()),
            "signs_differ": int((torch.sign(every) != torch.sign(own)).sum()),
            "smallest_abs_mean": float(every.abs().min()), "largest_mean_change": float((every - own).abs().max()),
            "centres_equal": bool(torch.equal(centre_every, centre_own))}


def own_centres(args, arrays: dict, recipe: dict, label: str) -> int:
    """``--own-centres``: ``own_centre_row`` of every cell, written and printed as it comes."""
    rows = []
    for normal_class in args.classes:
        for seed in args.seeds:
            data = draw(arrays, normal_class, seed)
            rows.append({"class": normal_class, "seed": seed, **own_centre_row(args.reference, data, seed, recipe),
                         "recipe": label})
            print(", ".join(f"{key} {value}" for key, value in rows[-1].items() if key != "recipe"), flush=True)
            write_csv(args.out, rows)
    print(f"{sum(row['centres_equal'] for row in rows)} of {len(rows)} cells: the reference's own-order centre "
          f"equals the centre over every sample")
    return 0


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
                             "the initial weights unchanged; with --ocbench-only: ocbench's")
    parser.add_argument("--reference-schedule", action="store_true",
                        help="ocbench drops the learning rate when the reference does, one epoch before the milestone")
    parser.add_argument("--reference-order", action="store_true",
                        help="both codes train on the batches the reference draws in its own order (replayed), "
                             "their centre over its centre pass's samples; the reference without its pretraining")
    parser.add_argument("--arithmetic", choices=list(ARITHMETIC), default="float32",
                        help="float64: both codes' Deep SAD in float64 (the weights drawn in float32); nudged: both "
                             "from weights one float32 step up; float32-plain: ocbench's LeNets without their CPU "
                             "speed devices")
    parser.add_argument("--side-by-side", action="store_true",
                        help="each cell's two codes in two processes at once (--threads each)")
    parser.add_argument("--check-replay", action="store_true",
                        help="only check, on the first class and seed, the replay of the reference's own order "
                             "against a run of it that trains (shorten it with --ae-epochs/--epochs)")
    parser.add_argument("--own-centres", action="store_true",
                        help="no training: for each cell, the reference's own-order centre (replayed) against the "
                             "centre over every sample, on the initial weights; one row per cell")
    parser.add_argument("--ocbench-only", action="store_true",
                        help="only ocbench trains, in its own order or, with --order-stream, that stream's; "
                             "no reference (its checkout is not read); one row per cell")
    parser.add_argument("--out", type=Path, required=True, help="CSV, one row per (class, seed)")
    args = parser.parse_args(argv)
    if args.ocbench_only and (args.same_order or args.reference_order or args.results or args.reference_cells
                              or args.components or args.check_replay or args.own_centres or args.side_by_side
                              or args.no_reference_pretraining):
        parser.error("--ocbench-only trains ocbench alone: leave out --same-order, --reference-order, --results, "
                     "--reference-cells, --components, --check-replay, --own-centres, --side-by-side and "
                     "--no-reference-pretraining")
    if args.arithmetic != "float32" and (args.results or args.reference_cells):
        parser.error(f"--arithmetic {args.arithmetic}: the workflow's runs and the cell files are float32; "
                     f"leave out --results and --reference-cells")
    if args.reference_order and (args.same_order or args.results or args.no_reference_pretraining):
        parser.error("--reference-order hands both codes the reference's own batches and leaves out its "
                     "pretraining itself: leave out --same-order, --results and --no-reference-pretraining")
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
    if args.order_stream is not None and not (args.same_order or args.ocbench_only):
        parser.error("--order-stream sets the batches ocbench hands both codes: add --same-order "
                     "(or --ocbench-only, for ocbench's alone)")
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
    order, cpu = order_name(args), cpu_label()
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
    if args.check_replay:
        return check_replay(args.reference, draw(arrays, args.classes[0], args.seeds[0]), args.seeds[0], recipe)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.own_centres:
        return own_centres(args, arrays, recipe, label)
    if args.ocbench_only:
        return ocbench_alone(args, arrays, ours_recipe, label)
    rows, (digits, extra) = [], cell_format(args)
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) if args.side_by_side else None
    for normal_class in args.classes:
        for seed in args.seeds:
            data = draw(arrays, normal_class, seed)
            reused = (normal_class, seed) in known
            replay = Replay(reference_passes(args.reference, data, seed, recipe)) if args.reference_order else None
            training_order = replay or ("ocbench's" if args.same_order else "own")
            reference = (known.get, (normal_class, seed)) if reused else (
                partial(run_reference, arithmetic=args.arithmetic), args.reference, data, seed, recipe,
                training_order, not (args.no_reference_pretraining or args.reference_order))
            ocbench = (ocbench_from_results, args.results, normal_class, seed, recipe) if args.results \
                else (ocbench_here, data, seed, ours_recipe, replay, args.arithmetic)
            if pool and not (reused or args.results):
                futures = [pool.submit(timed, args.threads, *job) for job in (reference, ocbench)]
                (theirs, their_seconds), ((ours, transfer), our_seconds) = [future.result() for future in futures]
            else:
                (theirs, their_seconds), ((ours, transfer), our_seconds) = [timed(args.threads, *job)
                                                                            for job in (reference, ocbench)]
            reference_time = "from the cell files" if reused else f"{their_seconds:.0f} s"
            rows.append({"class": normal_class, "seed": seed, "method": "deep_sad",
                         "reference_auroc": round(theirs, digits), "ocbench_auroc": round(ours, digits),
                         "difference": round(ours - theirs, digits),
                         "threads": args.threads, "recipe": label, "order": order,
                         "ocbench_milestones": ours_milestones, "ocbench_pretrain": str(transfer).lower(), "cpu": cpu,
                         **extra})
            print(f"class {normal_class} seed {seed} deep_sad reference {theirs:6.{digits}f} ocbench "
                  f"{ours:6.{digits}f} difference {ours - theirs:+6.{digits}f}  (reference {reference_time}, "
                  f"ocbench {our_seconds:.0f} s)", flush=True)
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
