"""The data jobs, one function each: fetch, prepare, split, train the attacks' classifier, attack.

Each reads files and writes files, and never leaves a half-written one behind: a file
is written to a temporary name beside its destination and renamed into place
(``io.atomic_path``).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from ..data.adversarial import craft_attacked_images, make_attack_split_from_files
from ..data.adversarial import train_classifier as fit_classifier
from ..data.ood import make_anomaly_split_from_files
from ..data.prepared import load_prepared, prepare_dataset, save_npz
from ..data.registry import dataset_source
from ..data.splits import make_split, make_transductive_split, save_split
from ..files import atomic_path, save_torch, write_json

log = logging.getLogger("ocbench.jobs")


def fetch_dataset(name: str, raw_dir, mirror=None, done=None) -> None:
    """Put the verified raw files of ``name`` in ``raw_dir``; write the ``done`` marker."""
    source = dataset_source(name)
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    source.fetch(raw_dir, Path(mirror) if mirror else None)
    files = sorted(str(p.relative_to(raw_dir)) for p in raw_dir.rglob("*") if p.is_file() and p.name != ".fetched")
    log.info("dataset %s: %d raw files in %s", name, len(files), raw_dir)
    if done is not None:
        write_json(done, {"dataset": name, "files": files})


def prepare(name: str, raw_dir, mirror, out) -> None:
    """Write the prepared ``.npz`` of ``name`` (docs/architecture.md) to ``out``."""
    with atomic_path(out) as tmp:
        prepare_dataset(name, Path(raw_dir), Path(mirror) if mirror else None, tmp)
    log.info("dataset %s prepared in %s", name, out)


def split(dataset: str, prepared, normal_classes, seed: int, params: dict, out) -> None:
    """Draw the split of one (dataset, setting, normal classes, seed) and save it to ``out``."""
    source = dataset_source(dataset)
    data = load_prepared(prepared)
    if params.get("anomaly_datasets"):  # the multi-class setting (data/ood.py)
        drawn = make_anomaly_split_from_files(prepared, data, dataset, list(normal_classes), int(seed), params)
    elif params.get("attack"):  # adversarial examples as the anomalies (data/adversarial.py)
        drawn = make_attack_split_from_files(prepared, data, dataset, list(normal_classes), int(seed), params)
    elif params.get("transductive") is not None:  # scored on its training images (the OC-NN authors' protocol)
        drawn = make_transductive_split(data, list(normal_classes), int(seed), **params)
    else:
        drawn = make_split(data, source.kind, list(normal_classes), int(seed), **params)
    with atomic_path(out) as tmp:
        save_split(drawn, tmp)
    log.info("split of %s, normal classes %s, seed %s saved to %s", dataset, normal_classes, seed, out)


def train_classifier(prepared, seed: int, params: dict, out) -> None:
    """Train the classifier that the attacks of one (dataset, seed) attack, on every training image; save it.

    ``params``: ``training.classifier``, its optimiser settings and its ``device``."""
    # here, not at the top: the other data jobs (fetch, prepare, split) never import torch
    from ..training import TrainConfig, set_up_training_process

    settings = dict(params)
    device = settings.pop("device", "cpu")
    data = load_prepared(prepared)
    set_up_training_process()
    network, accuracy = fit_classifier(data["x_train"], data["y_train"], int(seed), TrainConfig(**settings),
                                       n_classes=int(max(data["y_train"].max(), data["y_test"].max())) + 1,
                                       device=device)
    log.info("classifier of %s, seed %s: training accuracy %.4f", prepared, seed, accuracy)
    network = network.cpu()  # the same file, whichever device trained it
    save_torch({"state_dict": network.state_dict(), "input_shape": list(data["x_train"].shape[1:]),
                "n_classes": int(network[-1].out_features), "seed": int(seed), "params": params,
                "train_accuracy": accuracy}, out)


def attack(prepared, classifier, seed: int, params: dict, out, device: str = "cpu") -> None:
    """Attack every test image of a prepared dataset against its classifier; save the 8-bit attacked images."""
    # here, not at the top: the other data jobs never import torch
    import torch

    from ..nets.classifier import classifier_network
    from ..training import set_up_training_process

    state = torch.load(classifier, map_location="cpu", weights_only=True)
    network = classifier_network(state["input_shape"], state["n_classes"])
    network.load_state_dict(state["state_dict"])
    set_up_training_process()
    arrays = craft_attacked_images(network, load_prepared(prepared), params, int(seed), device)
    info = json.loads(str(arrays["info"]))
    log.info("attack %s of %s, seed %s: accuracy %.4f before, %.4f after; %.4f of the decisions changed",
             info["name"], prepared, seed, info["clean_accuracy"], info["attacked_accuracy"],
             info["changed_decisions"])
    save_npz(arrays, out)
