"""Adversarial examples as the anomalies: the normal classes' test images against attacked copies of them.

The Deep SVDD and OC-NN papers test on GTSRB stop signs against adversarial stop signs.
Here the attack is an L∞ projected-gradient attack (PGD, Madry et al. 2018; ``data/pgd.py``)
against a small CNN classifier (``nets/classifier.py``) trained on every class of the same
dataset. Three workflow stages,
each a file written once and shared by every run:

1. ``train_classifier``: the classifier, once per (dataset, seed): ``classifier.pt``;
2. ``craft_attacked_images``: every test image of the dataset attacked, once per
   (dataset, seed, attack): 8-bit images like the prepared ones;
3. ``make_attack_split``: training set = the normal classes' training images; test set =
   the normal classes' test images (label 0), then attacked copies of ``attacked`` of
   them, drawn by seed, or of all (label 1).

The attack works on pixels in [0, 1]: ``epsilon`` and ``step_size`` are in that scale
(8/255 ≈ 0.0314 is 8 levels of an 8-bit image). The attacked images are stored as 8-bit
images, each pixel rounded to the nearest level within ``floor(255·epsilon)`` levels of
its original, so a stored image is still within ``epsilon`` of its original (L∞) and in
[0, 1]. Files lie under ``{datadir}/adversarial/{dataset}/seed{seed}/``, in the datadir of
the prepared file (``classifier_path``, ``attacked_images_path``; ``paths.CLASSIFIER``,
``paths.ATTACKED``). The split records the sha256 of the attacked images it was drawn
from, so a new attack makes a new split and refits the runs.

torch is imported inside the functions: the config checks import this module cheaply.
"""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import paths
from ..errors import OcbenchError
from ..hyperparameters import TRAINING, Param, defaults
from ..files import sha256_file
from . import splits
from .pgd import check_budget, pgd_attack
from .prepared import load_npz
from .preprocess import to_unit
from .splits import check_unsupervised_setting

#: the keys of a setting's ``attack`` block (the schema's defaults fill them)
ATTACK_KEYS = ("epsilon", "step_size", "steps", "attacked")
#: one level of an 8-bit image in [0, 1]: a smaller epsilon cannot change a stored image
PIXEL_LEVEL = 1 / 255

#: the classifier's training settings (the config's ``training.classifier`` block) and their defaults
CLASSIFIER_TRAINING: dict[str, Param] = {
    **TRAINING,
    "lr": replace(TRAINING["lr"], default=1e-3),
    "epochs": replace(TRAINING["epochs"], default=10),
    "milestones": replace(TRAINING["milestones"], default=()),
    "batch_size": replace(TRAINING["batch_size"], default=128),
    "weight_decay": replace(TRAINING["weight_decay"], default=0),  # an int, as the config has always given it
    "device": Param("choice", choices=("cpu", "auto"), default="cpu", doc=(
        "where the classifier trains and the attacks run; auto takes CUDA where the job finds it (a local GPU), "
        "else the CPU (these jobs ask a cluster for no GPU)")),
}


# --------------------------------------------------------------------------- checks and names

def check_attack(attack: dict, where: str = "attack") -> None:
    """Raise one line unless ``attack`` holds epsilon in [1/255, 1], step_size > 0, steps ≥ 1,
    attacked null or ≥ 1."""
    epsilon = attack.get("epsilon")
    check_budget(epsilon, attack.get("step_size"), attack.get("steps"), where)
    if epsilon < PIXEL_LEVEL:
        raise OcbenchError(f"{where}.epsilon: {epsilon!r} is below one level of an 8-bit image (1/255 ≈ 0.00392); "
                           "the attacked images are stored as 8-bit images, so it would change none; allowed: "
                           "a number in [1/255, 1]")
    attacked = attack.get("attacked")
    if attacked is not None and (isinstance(attacked, bool) or not isinstance(attacked, int) or attacked < 1):
        raise OcbenchError(f"{where}.attacked: {attacked!r} is not allowed; allowed: an integer >= 1, or null for "
                           "every test image of the normal classes")


def attack_name(attack: dict) -> str:
    """The file name part of an attack, exact and readable: ``pgd_eps0.0314_step0.0078_steps10``.

    Floats are written by ``repr`` (the shortest text that reads back as the same number),
    so two attacks share a name only when they are the same attack. ``attacked`` is not
    part of it: the split draws from the same attacked images.
    """
    return (f"pgd_eps{float(attack['epsilon'])!r}_step{float(attack['step_size'])!r}"
            f"_steps{int(attack['steps'])}")


def _in_datadir(pattern: str, prepared_path, **fields) -> Path:
    """A file of ``paths``' layout in the datadir of the prepared file ``{datadir}/prepared/{dataset}.npz``."""
    prepared_path = Path(prepared_path)
    return Path(paths.under(prepared_path.parent.parent, pattern).format(dataset=prepared_path.stem, **fields))


def classifier_path(prepared_path, seed: int) -> Path:
    """``{datadir}/adversarial/{dataset}/seed{seed}/classifier.pt`` (``paths.CLASSIFIER``)."""
    return _in_datadir(paths.CLASSIFIER, prepared_path, seed=int(seed))


def attacked_images_path(prepared_path, seed: int, attack: dict) -> Path:
    """``{datadir}/adversarial/{dataset}/seed{seed}/{attack_name}.npz`` (``paths.ATTACKED``)."""
    return _in_datadir(paths.ATTACKED, prepared_path, seed=int(seed), attack=attack_name(attack))


def check_attack_setting(where: str, dataset: str, setting: dict, datasets: dict) -> None:
    """The config checks of one (dataset, setting with an ``attack``); one line each."""
    source = datasets[dataset]
    if source.kind != "image":
        raise OcbenchError(f"config {where}: an attack needs an image dataset, but {dataset!r} is {source.kind}")
    if setting.get("anomaly_datasets"):
        raise OcbenchError(f"config {where}: a setting takes its anomalies from an attack or from anomaly_datasets, "
                           "not both; make two settings")
    check_unsupervised_setting(where, setting, "an attack", "its anomalies are attacked test images")
    check_attack(setting["attack"], f"config {where}.attack")


# --------------------------------------------------------------------------- the classifier (torch, nets.classifier)

def to_unit_tensor(images: np.ndarray):
    """uint8 N×C×H×W pixels as a float32 tensor in [0, 1] (``preprocess.to_unit``)."""
    import torch  # here: see classifier_network

    return torch.from_numpy(to_unit(np.ascontiguousarray(images)))


def predict_classes(network, x) -> np.ndarray:
    """The class the network gives each image of ``x`` (a float tensor in [0, 1])."""
    from ..training import map_batches

    network.eval()
    return map_batches(network, x, 1024).argmax(dim=1).cpu().numpy().astype(np.int64)


def train_classifier(x_train: np.ndarray, y_train: np.ndarray, seed: int, config=None, n_classes: int | None = None,
                     device: str = "cpu"):
    """Train ``classifier_network`` on uint8 images and their classes; return (network, training accuracy).

    Cross-entropy through ocbench's one training loop (``training.train_network``: Adam,
    milestones, seeded shuffles); the weights are drawn after ``seed_everything(seed)``, so
    the same seed gives the same classifier on the same device.
    """
    import torch  # here: see classifier_network
    import torch.nn.functional as F

    from ..nets.classifier import classifier_network
    from ..training import TrainConfig, resolve_device, seed_everything, train_network

    config = config or TrainConfig(**{name: value for name, value in defaults(CLASSIFIER_TRAINING).items()
                                      if name in TRAINING})
    y = np.asarray(y_train, dtype=np.int64)
    if len(y) != len(x_train) or len(y) == 0:
        raise OcbenchError(f"train_classifier needs one class per image, got {len(x_train)} images and "
                           f"{len(y)} classes")
    n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
    seed_everything(int(seed))
    target_device = resolve_device(device)
    network = classifier_network(x_train.shape[1:], n_classes).to(target_device)
    x, targets = to_unit_tensor(x_train).to(target_device), torch.from_numpy(y).to(target_device)

    def batch_loss(net, xb, yb):
        return F.cross_entropy(net(xb), yb)

    train_network(network, batch_loss, (x, targets), config, seed=int(seed), name="classifier")
    accuracy = float((predict_classes(network, x) == y).mean())
    return network, accuracy


# --------------------------------------------------------------------------- 8-bit storage and the attacked images

def to_8bit_within(attacked: np.ndarray, original: np.ndarray, epsilon: float) -> np.ndarray:
    """Attacked float images in [0, 1] as uint8, each pixel within ``floor(255·epsilon)`` levels of its original.

    Rounding to the nearest level alone could step past the budget (255·ε = 7.99 allows 7
    levels, not 8); clipping to the original's band keeps every stored pixel within ε.
    """
    budget = math.floor(255 * float(epsilon) + 1e-9)
    levels = np.rint(np.asarray(attacked, dtype=np.float64) * 255)
    base = np.asarray(original, dtype=np.int64)
    return np.clip(levels, np.maximum(base - budget, 0), np.minimum(base + budget, 255)).astype(np.uint8)


def craft_attacked_images(network, prepared: dict, attack: dict, seed: int, device: str = "cpu") -> dict[str, np.ndarray]:
    """Every test image of ``prepared`` attacked against ``network``: the arrays of the attacked-images file.

    ``x_test`` (uint8, row i the attacked copy of the prepared ``x_test[i]``), ``y_test``,
    the classifier's decision on each image before and after the attack
    (``predicted_clean``, ``predicted_attacked``) and ``info`` (JSON: the attack, the seed,
    the clean accuracy and the share of decisions the attack changed).
    """
    import torch  # here: see classifier_network

    from ..training import resolve_device

    check_attack(attack)
    target_device = resolve_device(device)
    network = network.to(target_device)
    x_test, y_test = np.asarray(prepared["x_test"]), np.asarray(prepared["y_test"], dtype=np.int64)
    clean = to_unit_tensor(x_test).to(target_device)
    attacked = pgd_attack(network, clean, torch.from_numpy(y_test).to(target_device), attack["epsilon"],
                          attack["step_size"], attack["steps"], seed=int(seed))
    stored = to_8bit_within(attacked.cpu().numpy(), x_test, attack["epsilon"])
    before = predict_classes(network, clean)
    after = predict_classes(network, to_unit_tensor(stored).to(target_device))
    info = {"attack": {k: attack[k] for k in ("epsilon", "step_size", "steps")}, "name": attack_name(attack),
            "seed": int(seed), "n_images": int(len(y_test)), "clean_accuracy": float((before == y_test).mean()),
            "attacked_accuracy": float((after == y_test).mean()), "changed_decisions": float((after != before).mean())}
    return {"x_test": stored, "y_test": y_test, "predicted_clean": before, "predicted_attacked": after,
            "info": np.array(json.dumps(info, sort_keys=True))}


# --------------------------------------------------------------------------- the split

def make_attack_split(prepared: dict, dataset: str, normal_classes, seed: int, attacked_y_test, attack: dict,
                      attacked_sha256: str, **others) -> dict:
    """The split of a setting with an attack; a pure function of its arguments.

    ``attacked_y_test``: the classes of the attacked-images file (they must be the prepared
    test classes: the file was made from this dataset); ``attacked_sha256``: that file's
    sha256, recorded so that the runs read the very images the split was drawn for.
    ``others``: the remaining split parameters (the ratios, which must be 0, and
    ``validation_fraction``).
    """
    check_attack(attack)
    normal, y_train, y_test, train_idx = splits.unsupervised_training(prepared, normal_classes, seed, others,
                                                                      "an attack")
    if not np.array_equal(np.asarray(attacked_y_test), y_test):
        raise OcbenchError(f"the attacked images of {dataset!r} were made from another prepared file (their "
                           "classes differ); make them again")
    normal_test = np.flatnonzero(np.isin(y_test, normal)).astype(np.int64)
    count = attack.get("attacked")
    if count is None:
        drawn = normal_test
    elif count > len(normal_test):
        raise OcbenchError(f"attack.attacked {count} exceeds the {len(normal_test)} test images of the normal "
                           f"classes {normal} of {dataset!r}; allowed: at most {len(normal_test)}, or null for all")
    else:
        drawn = np.sort(np.random.default_rng(seed).choice(normal_test, size=int(count), replace=False))
    test_idx = np.concatenate([normal_test, drawn]).astype(np.int64)
    test_source = np.concatenate([np.zeros(len(normal_test)), np.ones(len(drawn))]).astype(np.int64)
    test_label = test_source.copy()
    validation_fraction = others.get("validation_fraction", splits.DEFAULT_VALIDATION_FRACTION)
    validation, evaluation = splits.validation_share(test_label, validation_fraction, int(seed))
    name = attack_name(attack)
    info = {**splits.unsupervised_info(normal, seed), "attack": {k: attack.get(k) for k in ATTACK_KEYS},
            "attacked_images": name, "attacked_sha256": attacked_sha256,
            "test_sources": [dataset, f"{dataset} attacked ({name})"],
            "n_test_from": {dataset: int(len(normal_test)), "attacked": int(len(drawn))},
            "n_train_candidates": int(len(y_train)), "n_train": int(len(train_idx)), "n_test": int(len(test_idx)),
            "n_test_normal": int(len(normal_test)), "n_test_anomaly": int(len(drawn)),
            "validation_fraction": float(validation_fraction), "n_validation": int(len(validation)),
            "n_evaluation": int(len(evaluation))}
    return {"train_idx": train_idx, "train_semi": np.zeros(len(train_idx), dtype=np.int64),
            "train_class": y_train[train_idx].astype(np.int64), "test_idx": test_idx, "test_label": test_label,
            "test_class": y_test[test_idx].astype(np.int64), "test_source": test_source,
            "test_validation": validation, "test_evaluation": evaluation, "info": json.dumps(info, sort_keys=True)}


def _attacked_arrays(path: Path) -> dict:
    return load_npz(path, ("x_test", "y_test"), "attacked images")


def make_attack_split_from_files(prepared_path, prepared: dict, dataset: str, normal_classes, seed: int,
                                 params: dict) -> dict:
    """``make_attack_split`` with the attacked images read from ``attacked_images_path``."""
    path = attacked_images_path(prepared_path, seed, params["attack"])
    attacked = _attacked_arrays(path)
    others = {k: v for k, v in params.items() if k != "attack"}
    return make_attack_split(prepared, dataset, normal_classes, seed, attacked["y_test"], params["attack"],
                             sha256_file(path), **others)


def split_test_images(prepared_path, prepared: dict, split: dict, split_path) -> np.ndarray:
    """The raw uint8 test images of a split with an attack: the prepared ones, then the attacked ones."""
    info = json.loads(split["info"])
    path = attacked_images_path(prepared_path, info["seed"], info["attack"])
    if not path.is_file():
        raise OcbenchError(f"split {split_path} takes its anomalies from the attacked images {path}, which do not "
                           "exist; make them (the workflow's attack rule, `ocbench attack`)")
    if sha256_file(path) != info["attacked_sha256"]:
        raise OcbenchError(f"split {split_path} was drawn for other attacked images than {path} holds now; "
                           "make the split again")
    attacked = _attacked_arrays(path)["x_test"]
    source, index = np.asarray(split["test_source"]), np.asarray(split["test_idx"])
    images = np.where((source == 0)[:, None, None, None], prepared["x_test"][index], attacked[index])
    return np.ascontiguousarray(images, dtype=np.uint8)
