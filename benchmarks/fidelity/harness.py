"""One-class Fashion-MNIST runs of ocbench and of the Deep SVDD reference, on the same data and recipe.

Shared by ``compare_components.py`` and ``compare_reference.py`` (and, for the options,
the recipe, the batch order, the arithmetic and the cell files, ``compare_deep_sad.py`` and
``compare_pretraining.py``). The reference code is
imported from a checkout of github.com/lukasruff/Deep-SVDD-PyTorch (its ``src`` on
``sys.path``; nothing of it is copied here). Its own pipeline has no Fashion-MNIST, so
the reference side gets the images through its own transforms (``ToTensor``, its
``global_contrast_normalization`` with the L1 scale, ``Normalize`` with the min and max
of the GCN'd normal-class training images, computed here as ocbench does: F-MNIST's own
constants) and a dataset object with the reference's ``loaders`` contract (shuffled
training loader, test loader in order, batches of ``(inputs, labels, index)``). Its
trainers, networks, centre, radius and scores are its own code, run as its ``main.py``
runs them: seed ``random``, NumPy and torch; build the network; pretrain (a new
autoencoder); hand the encoder weights over; train; test.
"""
from __future__ import annotations

import contextlib
import copy
import json
import math
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = ROOT / "workflow" / "experiments" / "fidelity_fmnist.yaml"


def import_reference(checkout: Path, module: str):
    """``module`` of the reference checkout (``networks.main``, ``deepSVDD``, ...), imported from its src/."""
    import importlib

    src = str(Path(checkout) / "src")
    if not Path(src).is_dir():
        raise SystemExit(f"{checkout} is not a checkout of the reference (no src/ folder)")
    for name in [m for m in sys.modules if m.split(".")[0] in ("networks", "base", "optim", "datasets", "utils",
                                                                  "deepSVDD", "DeepSAD")]:
        del sys.modules[name]  # the two references share these package names
    sys.path.insert(0, src)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(src)


# --------------------------------------------------------------------------- data

@dataclass
class OneClassData:
    """8-bit images of one normal class: its training images, and the whole test split."""
    normal_class: int
    x_train: np.ndarray  # N x 1 x 28 x 28 uint8, the normal class only
    x_test: np.ndarray
    y_test: np.ndarray   # 0 normal, 1 anomaly


def int_list(text: str) -> list[int]:
    """``"5,8"`` or ``"0-9"`` or ``"1-3,7"``."""
    out = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return out


def add_common_arguments(parser, reference: str, seeds: str) -> None:
    """The options every side-by-side script takes: the reference checkout, the mirror,
    the classes and seeds to run, and torch's thread count."""
    parser.add_argument("--reference", type=Path, required=True, help=f"checkout of {reference}")
    parser.add_argument("--mirror", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--classes", type=int_list, default=int_list("0-9"))
    parser.add_argument("--seeds", type=int_list, default=int_list(seeds))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reference-cells", type=Path, nargs="+", default=[],
                        help="earlier cell CSVs: the reference's AUROCs of cells of the same recipe, thread count "
                             "and batch order are used, not retrained")
    parser.add_argument("--same-order", action="store_true", help="the reference trains on ocbench's batch order")


def timed(threads: int, function, *args):
    """``function(*args)`` and the seconds it took, on ``threads`` threads (here or in a worker process)."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    return function(*args), time.perf_counter() - start


def cpu_label() -> str:
    """This machine's processor and the vector instructions torch's CPU kernels take on it
    (``AVX2``, ``AVX512``...), as every cell records them: in float32 the same code, data,
    seed and thread count give another AUROC on another CPU (``docs/fidelity.md``)."""
    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines()
                  if line.startswith("model name")), "") or platform.processor() or "unknown processor"
    return f"{model} ({torch.backends.cpu.get_cpu_capability()})"


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return ""


def reusable_reference(cells: list[dict], recipe: str, threads: int, order: str, cpu: str) -> list[dict]:
    """The earlier cells (``by_class.read_cells``) whose reference AUROC a run may take
    instead of training the reference again: those of the same recipe, thread count, batch
    order and CPU (``cpu_label``), the four things besides class and seed that the
    reference's AUROC depends on (the reference code never changes). A file that does not
    record one of them matches nothing."""
    return [cell for cell in cells
            if (cell["recipe"], cell["threads"], cell["order"], cell["cpu"]) == (recipe, threads, order, cpu)]


def order_label(same_order: bool, order_stream: int | None = None) -> str:
    """The batch order the reference trains in, as each cell records it: its own shuffle,
    ocbench's batches (``--same-order``), or those of another stream of the seed."""
    if not same_order:
        return "own"
    return "ocbench's" if order_stream is None else f"ocbench's stream {order_stream}"


def milestones_label(milestones) -> str:
    return "/".join(str(m) for m in milestones) or "none"


def recipe_label(recipe: dict, network: str) -> str:
    """The recipe in one line, as each cell records it (``network`` names the second block:
    "deep svdd", "deep sad"): cells of two recipes are never joined, and a reference AUROC
    is never reused for another recipe."""
    def block(settings):
        return (f"{settings['epochs']} epochs lr {settings['lr']:g} "
                f"milestones {milestones_label(settings['milestones'])} weight decay {settings['weight_decay']:g}")
    settings = recipe["network"]
    return (f"autoencoder {block(recipe['autoencoder'])}; {network} {block(settings)}; "
            f"batch {settings['batch_size']}; drop_last {str(settings.get('drop_last', False)).lower()}")


def check_mirror(mirror: Path) -> None:
    if not Path(mirror).is_dir():
        raise SystemExit(f"the Fashion-MNIST mirror {mirror} does not exist (apt-get install dataset-fashion-mnist)")


def fmnist_arrays(mirror: Path, cache: Path | None = None) -> dict:
    """Fashion-MNIST's prepared arrays from the local mirror, through ocbench's own fetch and prepare (cached)."""
    from ocbench.data.prepared import load_prepared, prepare_dataset

    cache = Path(cache or Path(tempfile.gettempdir()) / "ocbench_fidelity")
    prepared = cache / "fmnist.npz"
    if not prepared.exists():
        prepare_dataset("fmnist", cache / "raw", mirror, prepared)
    return load_prepared(prepared)


def load_fmnist(mirror: Path, normal_class: int, train_subset: int | None = None,
                test_subset: int | None = None, cache: Path | None = None) -> OneClassData:
    """One normal class of Fashion-MNIST (``fmnist_arrays``); subsets are the first rows."""
    arrays = fmnist_arrays(mirror, cache)
    x_train = arrays["x_train"][arrays["y_train"] == normal_class][:train_subset]
    x_test, y_test = arrays["x_test"][:test_subset], arrays["y_test"][:test_subset]
    return OneClassData(normal_class, x_train, x_test, (y_test != normal_class).astype(np.int64))


def ocbench_preprocess(data: OneClassData) -> tuple[np.ndarray, np.ndarray]:
    from ocbench.data.preprocess import preprocess

    return preprocess("gcn_minmax", data.x_train, data.x_test, np.ones(len(data.x_train), dtype=bool))


def reference_preprocess(checkout: Path, data: OneClassData) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference's transforms, per image, with the min-max bounds of its GCN'd normal-class images."""
    import torchvision.transforms as T

    gcn = import_reference(checkout, "datasets.preprocessing").global_contrast_normalization

    def to_gcn(images):
        return torch.stack([gcn(T.ToTensor()(img[0]), scale="l1") for img in images])

    train, test = to_gcn(data.x_train), to_gcn(data.x_test)
    low, high = train.min().item(), train.max().item()
    normalize = T.Normalize([low], [high - low])
    return torch.stack([normalize(x) for x in train]), torch.stack([normalize(x) for x in test])


class ReferenceDataset:
    """The reference's dataset contract over in-memory tensors: ``loaders`` as its TorchvisionDataset."""

    def __init__(self, x_train, x_test, y_test):
        from torch.utils.data import TensorDataset

        self.train_set = TensorDataset(x_train, torch.zeros(len(x_train), dtype=torch.int64),
                                       torch.arange(len(x_train)))
        self.test_set = TensorDataset(x_test, torch.as_tensor(y_test), torch.arange(len(x_test)))

    def loaders(self, batch_size, shuffle_train=True, shuffle_test=False, num_workers=0):
        from torch.utils.data import DataLoader

        return (DataLoader(self.train_set, batch_size=batch_size, shuffle=shuffle_train, num_workers=num_workers),
                DataLoader(self.test_set, batch_size=batch_size, shuffle=shuffle_test, num_workers=num_workers))


class OcbenchOrder:
    """A batch sampler for a reference's training loader: each pass yields ocbench's batches
    of the next epoch (``training.batches`` with ``training.batch_order(seed)``, one generator
    per loader, as ocbench starts one per training; ``drop_last`` as ocbench's training
    option). With ``centre_pass`` the first pass, the centre's (which does not depend on the
    order), goes through unshuffled and whole: ocbench's centre is the mean code of every
    training sample, whatever ``drop_last``."""

    def __init__(self, n: int, batch_size: int, seed: int, centre_pass: bool, drop_last: bool = False):
        from ocbench.training import batch_order

        self.n, self.batch_size, self.generator = n, batch_size, batch_order(seed)
        self.drop_last = drop_last
        self.unshuffled_passes_left = int(centre_pass)

    def __iter__(self):
        from ocbench.training import batches

        if self.unshuffled_passes_left:
            self.unshuffled_passes_left -= 1
            return iter([b.tolist() for b in batches(self.n, self.batch_size)])
        return iter([b.tolist() for b in batches(self.n, self.batch_size, self.generator, self.drop_last)])

    def __len__(self):
        from ocbench.training import batches

        return len(batches(self.n, self.batch_size, None, self.drop_last))  # a training pass


@contextlib.contextmanager
def order_from_stream(stream: int):
    """ocbench's batch order, and so ``OcbenchOrder``'s, drawn from stream ``stream`` of the
    seed (``training.seed_stream``) instead of ``training.batch_order``'s, inside the block.

    The initial weights (``torch.manual_seed(seed)``) and the split stay as they are: only the
    order of the batches changes, for both codes alike under ``--same-order``. So a cell run
    with a few streams shows how far the order alone moves each code's AUROC.
    """
    from ocbench import training

    # ocbench's own streams, and 0 below them, stay its own: a new one in training.py moves the bound
    first_free = max(training.BATCH_ORDER_STREAM, training.ATTACK_START_STREAM) + 1
    if stream < first_free:
        raise SystemExit(f"--order-stream {stream}: streams 0 to {first_free - 1} are ocbench's own "
                         f"({training.BATCH_ORDER_STREAM} is its batch order); allowed: {first_free} or more")
    own = training.batch_order
    training.batch_order = lambda seed: training.seed_stream(seed, stream)
    try:
        yield
    finally:
        training.batch_order = own


class GivenOrderLoaders:
    """Mixed into a reference's dataset class (either reference: both keep ``train_set`` and
    ``test_set``): its training loader yields the batches of ``batch_sampler(n, batch_size)``
    instead of its own shuffle; the test loader stays its own."""

    def batch_sampler(self, n: int, batch_size: int):
        raise NotImplementedError

    def loaders(self, batch_size, shuffle_train=True, shuffle_test=False, num_workers=0):
        from torch.utils.data import DataLoader

        order = self.batch_sampler(len(self.train_set), batch_size)
        return (DataLoader(self.train_set, batch_sampler=order, num_workers=num_workers),
                DataLoader(self.test_set, batch_size=batch_size, shuffle=shuffle_test, num_workers=num_workers))


class SameOrderLoaders(GivenOrderLoaders):
    """A reference's training loader that yields ocbench's batches (``OcbenchOrder``).
    ``centre_pass`` for a trainer that first computes its centre (Deep SVDD's, Deep SAD's),
    not for the autoencoder's (epochs only); ``drop_last``: ocbench's training option."""

    def __init__(self, *arrays, seed: int, centre_pass: bool, drop_last: bool = False, **keywords):
        super().__init__(*arrays, **keywords)
        self.seed, self.centre_pass, self.drop_last = seed, centre_pass, drop_last

    def batch_sampler(self, n: int, batch_size: int):
        return OcbenchOrder(n, batch_size, self.seed, self.centre_pass, self.drop_last)


class RecordedOrder:
    """A batch sampler that yields given passes, one each time its loader is iterated:
    ``passes[k]``, the batches (index lists) of the loader's k-th pass. One pass more is
    refused: the trainer would otherwise go on with batches nobody recorded."""

    def __init__(self, passes: list[list[list[int]]]):
        self.passes, self.taken = passes, 0

    def __iter__(self):
        if self.taken == len(self.passes):
            raise RuntimeError(f"the {len(self.passes)} recorded passes are all spent: the trainer makes more "
                               f"passes than were recorded")
        self.taken += 1
        return iter(self.passes[self.taken - 1])

    def __len__(self):
        return len(self.passes[-1])  # a training pass


class RecordedLoaders(GivenOrderLoaders):
    """A reference's training loader that yields recorded passes (``RecordedOrder``)."""

    def __init__(self, *arrays, passes: list[list[list[int]]], **keywords):
        super().__init__(*arrays, **keywords)
        self.passes = passes

    def batch_sampler(self, n: int, batch_size: int):
        return RecordedOrder(self.passes)


@contextlib.contextmanager
def ocbench_trains_on(epochs: list[list[list[int]]]):
    """ocbench's training (``training._optimise``) takes its epochs' batches from ``epochs``
    (one list of index lists per epoch, in turn) instead of ``training.batches``' shuffle,
    inside the block; its unshuffled calls stay as they are. An epoch more than given, or one
    left over at the end, is refused: the two codes would not have trained on the same batches."""
    from ocbench import training

    own, given = training.batches, iter(epochs)

    def recorded(n, batch_size, generator=None, drop_last=False):
        if generator is None:
            return own(n, batch_size, generator, drop_last)
        epoch = next(given, None)
        if epoch is None:
            raise RuntimeError(f"ocbench trains more epochs than the {len(epochs)} given")
        if max(max(batch) for batch in epoch) >= n:
            raise RuntimeError(f"the given batches index past the {n} training samples")
        return [torch.tensor(batch) for batch in epoch]

    training.batches = recorded
    try:
        yield
    finally:
        training.batches = own
    if next(given, None) is not None:
        raise RuntimeError(f"ocbench trained fewer epochs than the {len(epochs)} given")


class SameOrderDataset(SameOrderLoaders, ReferenceDataset):
    """The Deep SVDD reference's dataset with ocbench's batches."""


# --------------------------------------------------------------------------- arithmetic

def nudged(module: torch.nn.Module) -> torch.nn.Module:
    """Every weight of ``module`` one float32 step up: a change the size of one rounding."""
    with torch.no_grad():
        for weight in module.parameters():
            weight.copy_(torch.nextafter(weight, torch.full_like(weight, math.inf)))
    return module


def unchanged(module: torch.nn.Module) -> torch.nn.Module:
    return module


#: ``--arithmetic``: what becomes of each code's network (the autoencoder, Deep SAD's) right
#: after its initial draws (the same on both sides), the dtype both codes then train and score
#: in, and whether ocbench's LeNets run without their CPU speed devices (``plain_layers``)
ARITHMETIC = {"float32": (unchanged, torch.float32, False),
              "float64": (lambda module: module.double(), torch.float64, False),
              "nudged": (nudged, torch.float32, False),
              "float32-plain": (unchanged, torch.float32, True)}


@contextlib.contextmanager
def plain_layers():
    """ocbench's LeNets computed as the reference's are: NCHW weights and tensors, and every
    "upsample, then transposed convolution" as those two layers, not ``upsample_deconv``'s one
    convolution. The two speed devices of ``ocbench/nets/layers.py`` change no weight and no
    function, only the order of float32 additions; with them off, the forward and backward
    passes are the reference's operations in the reference's order."""
    import ocbench.nets.lenet as lenet
    from ocbench.nets.layers import upsample

    saved = {name: getattr(lenet, name) for name in ("channels_last", "to_channels_last", "upsample_deconv")}
    lenet.channels_last = unchanged
    lenet.to_channels_last = lambda x: x
    lenet.upsample_deconv = lambda x, deconv_layer: deconv_layer(upsample(x))
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(lenet, name, function)


def reference_builds_in(module, builder: str, arithmetic: str) -> torch.dtype:
    """The reference ``module``'s ``builder`` (the name its own code calls: ``DeepSAD``'s
    ``build_network``, ``build_autoencoder``) changed so that every network it builds becomes
    as ``ARITHMETIC[arithmetic]`` says right after its initial draws; the dtype its data must
    then take. ``import_reference`` imports the module anew on every call, so the change
    lasts as long as this module object."""
    prepare, dtype, _ = ARITHMETIC[arithmetic]  # the reference's own layers in every arithmetic
    build = getattr(module, builder)
    setattr(module, builder, lambda name: prepare(build(name)))
    return dtype


def in_dtype(data, dtype: torch.dtype):
    """The split with its images in ``dtype`` (float32 to float64 is exact)."""
    x_train, semi, x_test, y_test = data
    numpy_dtype = torch.empty(0, dtype=dtype).numpy().dtype
    return x_train.astype(numpy_dtype), semi, x_test.astype(numpy_dtype), y_test


@contextlib.contextmanager
def ocbench_arithmetic(arithmetic: str):
    """ocbench's deep detectors (the autoencoder's, Deep SAD's network) with
    ``ARITHMETIC[arithmetic]``: their initial draws then the change, their inputs in the dtype,
    their LeNets plain where it says so. Nothing is touched for float32, ocbench's own path."""
    import ocbench.detectors.autoencoder as autoencoder_module
    import ocbench.detectors.deep as deep_module

    prepare, dtype, plain = ARITHMETIC[arithmetic]
    modules = (autoencoder_module, deep_module)  # each calls the initial draws by its own name
    draws, as_tensor = autoencoder_module.apply_init, deep_module.as_tensor

    def apply_init(module, *args):
        draws(module, *args)
        prepare(module)

    if prepare is not unchanged or dtype != torch.float32:
        for module in modules:
            module.apply_init = apply_init
        deep_module.as_tensor = lambda x, device: as_tensor(x, device).to(dtype)
    try:
        with plain_layers() if plain else contextlib.nullcontext():
            yield
    finally:
        for module in modules:
            module.apply_init = draws
        deep_module.as_tensor = as_tensor


# --------------------------------------------------------------------------- the workflow's runs

def run_directory(results: Path, setting: str, normal_class: int, seed: int, method: str) -> Path:
    """A fidelity experiment's run directory of the cell,
    ``runs/fmnist/{setting}/{class}/seed{seed}/{method}/{device}/`` (the first device)."""
    files = sorted((Path(results) / "runs" / "fmnist" / setting / str(normal_class) / f"seed{seed}" / method)
                   .glob("*/metrics.json"))
    if not files:
        raise SystemExit(f"no run of {method}, setting {setting}, class {normal_class}, seed {seed} "
                         f"under {results}/runs")
    return files[0].parent


def auroc_from_results(results: Path, setting: str, normal_class: int, seed: int, methods) -> dict[str, float]:
    """AUROC (%) of each method from the cell's run directories (``run_directory``)."""
    return {method: 100 * json.loads((run_directory(results, setting, normal_class, seed, method)
                                      / "metrics.json").read_text())["auroc"] for method in methods}


# --------------------------------------------------------------------------- recipe

def load_recipe(path: Path = EXPERIMENT) -> dict:
    """The training blocks and Deep SVDD settings of the fidelity experiment."""
    config = yaml.safe_load(Path(path).read_text())
    soft = config.get("method_params", {}).get("deep_svdd_softboundary", {})
    return {"autoencoder": dict(config["training"]["autoencoder"]), "network": dict(config["training"]["network"]),
            "init": config["training"].get("init", "default"), "nu": soft.get("nu", 0.1),
            "warm_up_epochs": soft.get("warm_up_epochs", 10)}


def shorten(recipe: dict, ae_epochs: int | None, epochs: int | None) -> dict:
    """The recipe with fewer epochs; each milestone keeps its share of the epochs."""
    recipe = copy.deepcopy(recipe)
    for block, new in (("autoencoder", ae_epochs), ("network", epochs)):
        if new:
            old = recipe[block]["epochs"]
            recipe[block]["milestones"] = [max(1, round(m * new / old)) for m in recipe[block]["milestones"]]
            recipe[block]["epochs"] = new
    return recipe


def reference_schedule(recipe: dict) -> dict:
    """The recipe with every milestone one epoch earlier: the schedule the PyTorch references
    really run, as they step their scheduler at the start of each epoch and so drop the
    rate one epoch before the milestone (``docs/deviations.md``; ocbench drops it after).
    Given to ocbench, the two codes' learning rates agree epoch by epoch."""
    recipe = copy.deepcopy(recipe)
    for block in ("autoencoder", "network"):
        milestones = recipe[block]["milestones"]
        if min(milestones, default=2) < 2:
            raise SystemExit(f"{block} milestone 1: the reference runs every epoch at the dropped rate, which "
                             "ocbench's schedule does not express; take more epochs")
        recipe[block]["milestones"] = [m - 1 for m in milestones]
    return recipe


# --------------------------------------------------------------------------- the two runs

OBJECTIVES = {"deep_svdd_oneclass": "one-class", "deep_svdd_softboundary": "soft-boundary"}


def run_ocbench(data: OneClassData, seed: int, recipe: dict, methods=tuple(OBJECTIVES)) -> dict[str, float]:
    """AUROC (%) of ``cae`` and the Deep SVDD methods, as the workflow runs them on one split."""
    from ocbench.detectors import AutoencoderDetector, DeepSVDD

    x_train, x_test = ocbench_preprocess(data)
    ae = AutoencoderDetector(net="mnist_lenet", seed=seed, init=recipe["init"], **recipe["autoencoder"]).fit(x_train)
    result = {"cae": 100 * roc_auc_score(data.y_test, ae.decision_function(x_test))}
    for method in methods:
        extra = {"nu": recipe["nu"], "warm_up_epochs": recipe["warm_up_epochs"]} \
            if OBJECTIVES[method] == "soft-boundary" else {}
        detector = DeepSVDD(net="mnist_lenet", objective=OBJECTIVES[method], seed=seed, init=recipe["init"],
                            autoencoder=ae.autoencoder_, **recipe["network"], **extra).fit(x_train)
        result[method] = 100 * roc_auc_score(data.y_test, detector.decision_function(x_test))
    return result


def seed_like_reference(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def reference_pretrained(checkout: Path, dataset: ReferenceDataset, seed: int, recipe: dict):
    """The reference's DeepSVDD object after ``set_network`` and ``pretrain``, as its main.py for ``seed``."""
    DeepSVDD = import_reference(checkout, "deepSVDD").DeepSVDD
    ae = recipe["autoencoder"]
    if ae.get("loss", "sum") != "sum":
        raise SystemExit("the Deep SVDD reference's autoencoder loss is the sum; set loss: sum in the recipe")
    seed_like_reference(seed)
    model = DeepSVDD("one-class", recipe["nu"])
    model.set_network("mnist_LeNet")
    model.pretrain(dataset, optimizer_name="amsgrad" if ae.get("amsgrad") else "adam", lr=ae["lr"],
                   n_epochs=ae["epochs"], lr_milestones=tuple(ae["milestones"]), batch_size=ae["batch_size"],
                   weight_decay=ae["weight_decay"], device="cpu", n_jobs_dataloader=0)
    return model


def reference_ae_auroc(model, dataset: ReferenceDataset) -> float:
    """The AUROC its ``AETrainer.test`` logs: per-sample summed squared error on the test set."""
    model.ae_net.eval()
    with torch.no_grad():
        x, y, _ = dataset.test_set.tensors
        scores = torch.cat([((model.ae_net(b) - b) ** 2).sum(dim=(1, 2, 3)) for b in x.split(1024)])
    return 100 * roc_auc_score(y.numpy(), scores.numpy())


def run_reference(checkout: Path, data: OneClassData, seed: int, recipe: dict,
                  methods=tuple(OBJECTIVES), same_order: bool = False) -> dict[str, float]:
    """AUROC (%) of the reference's autoencoder and Deep SVDD objectives; one main.py run per objective.

    The pretraining of every run with the same seed is the same computation, so it runs
    once; each objective then starts from a copy of it and from the random state that
    followed it, exactly as a separate run would. ``same_order``: both trainings take
    ocbench's batches (``SameOrderDataset``) instead of the reference's shuffle.
    """
    x_train, x_test = reference_preprocess(checkout, data)
    pretraining = dataset = ReferenceDataset(x_train, x_test, data.y_test)
    if same_order:
        pretraining = SameOrderDataset(x_train, x_test, data.y_test, seed=seed, centre_pass=False)
        dataset = SameOrderDataset(x_train, x_test, data.y_test, seed=seed, centre_pass=True)
    pretrained = reference_pretrained(checkout, pretraining, seed, recipe)
    state = torch.get_rng_state(), np.random.get_state(), random.getstate()
    result = {"cae": reference_ae_auroc(pretrained, dataset)}
    net = recipe["network"]
    for method in methods:
        model = copy.deepcopy(pretrained)
        model.objective = OBJECTIVES[method]
        torch.set_rng_state(state[0])
        np.random.set_state(state[1])
        random.setstate(state[2])
        model.train(dataset, optimizer_name="amsgrad" if net.get("amsgrad") else "adam", lr=net["lr"],
                    n_epochs=net["epochs"], lr_milestones=tuple(net["milestones"]), batch_size=net["batch_size"],
                    weight_decay=net["weight_decay"], device="cpu", n_jobs_dataloader=0)
        model.test(dataset, device="cpu", n_jobs_dataloader=0)
        result[method] = 100 * model.results["test_auc"]
    return result
