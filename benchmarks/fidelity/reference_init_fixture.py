"""Check ``init: <reference>`` against the reference code and write the test fixture.

Runs each reference implementation's own network construction, as its ``main.py``
does for a seed (``random``, NumPy and torch seeded; the Deep SVDD / Deep SAD network
built first, then the autoencoder), maps its parameter names to ocbench's, and
compares every weight tensor with what ``ocbench.nets.reference_init`` draws for the
same seed. Exits 1 on any difference. With ``--out`` it writes, for every
(reference, net, part), each tensor's shape, float64 sum, first values and the sha256
of its float32 bytes: ``tests/integration/test_fidelity.py`` checks ocbench against that file
without the reference code.

    python benchmarks/fidelity/reference_init_fixture.py \
        --deep-svdd /tmp/Deep-SVDD-PyTorch --deep-sad /tmp/Deep-SAD-PyTorch \
        --seed 1 --out tests/fixtures/reference_init_seed1.json

The paths are checkouts of github.com/lukasruff/Deep-SVDD-PyTorch and
github.com/lukasruff/Deep-SAD-PyTorch (their ``src`` is put on ``sys.path``; nothing
of them is copied). Both import with current torch without a patch.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import import_reference  # noqa: E402

from ocbench.nets import build_autoencoder, build_network  # noqa: E402
from ocbench.nets.reference_init import SEQUENCES, apply_init  # noqa: E402

#: ocbench net -> the reference's net name
REFERENCE_NAMES = {"mnist_lenet": "mnist_LeNet", "fmnist_lenet": "fmnist_LeNet", "cifar10_lenet": "cifar10_LeNet",
                   "cifar10_lenet_elu": "cifar10_LeNet_ELU", "arrhythmia_mlp": "arrhythmia_mlp", "cardio_mlp": "cardio_mlp", "satellite_mlp": "satellite_mlp",
                   "satimage-2_mlp": "satimage-2_mlp", "shuttle_mlp": "shuttle_mlp", "thyroid_mlp": "thyroid_mlp"}


def ocbench_key(reference: str, part: str, key: str, network_keys: set[str]) -> str:
    """The ocbench parameter name of a reference parameter name."""
    if part == "network":
        return key
    if reference == "deep_svdd":  # one flat module: the network's names are the encoder's
        return f"encoder.{key}" if key in network_keys else f"decoder.{key}"
    return key.replace("decoder.reconstruction.", "decoder.output.")


def draw_reference(reference_module, reference: str, net: str, seed: int) -> dict:
    """{part: {ocbench key: tensor}} from the reference's own constructors, in its main.py order."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    name = REFERENCE_NAMES[net]
    network = reference_module.build_network(name)
    autoencoder = reference_module.build_autoencoder(name)
    net_state = {key: value.detach().clone() for key, value in network.named_parameters()}
    ae_state = {ocbench_key(reference, "autoencoder", key, set(net_state)): value.detach().clone()
                for key, value in autoencoder.named_parameters()}
    return {"network": net_state, "autoencoder": ae_state}


def draw_ocbench(reference: str, net: str, seed: int) -> dict:
    torch.manual_seed(12345)  # any state: apply_init must not depend on it
    network, autoencoder = build_network(net), build_autoencoder(net)
    apply_init(network, net, reference, seed, "network")
    apply_init(autoencoder, net, reference, seed, "autoencoder")
    return {"network": {k: v.detach() for k, v in network.named_parameters()},
            "autoencoder": {k: v.detach() for k, v in autoencoder.named_parameters()}}


def describe(tensor: torch.Tensor) -> dict:
    t = tensor.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "sum": float(t.double().sum()),
            "first": [float(v) for v in t.flatten()[:4]],
            "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deep-svdd", type=Path, required=True, help="checkout of Deep-SVDD-PyTorch")
    parser.add_argument("--deep-sad", type=Path, required=True, help="checkout of Deep-SAD-PyTorch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the fixture JSON here")
    args = parser.parse_args(argv)

    fixture, failures, checked = {"seed": args.seed, "tensors": {}}, 0, 0
    for reference, checkout in (("deep_svdd", args.deep_svdd), ("deep_sad", args.deep_sad)):
        module = import_reference(checkout, "networks.main")
        for ref, net in SEQUENCES:
            if ref != reference:
                continue
            theirs, ours = draw_reference(module, reference, net, args.seed), draw_ocbench(reference, net, args.seed)
            for part in ("network", "autoencoder"):
                if set(theirs[part]) != set(ours[part]):
                    print(f"FAIL {reference} {net} {part}: keys differ {sorted(set(theirs[part]) ^ set(ours[part]))}")
                    failures += 1
                    continue
                for key, value in theirs[part].items():
                    checked += 1
                    if not torch.equal(value, ours[part][key]):
                        print(f"FAIL {reference} {net} {part} {key}: max |diff| "
                              f"{(value - ours[part][key]).abs().max().item():.3g}")
                        failures += 1
                fixture["tensors"][f"{reference}/{net}/{part}"] = {k: describe(v) for k, v in theirs[part].items()}
            print(f"{reference:9s} {net:15s} network {len(theirs['network'])} tensors, "
                  f"autoencoder {len(theirs['autoencoder'])} tensors: "
                  f"{'equal' if failures == 0 else 'see FAIL lines'}")
    print(f"{checked} tensors compared, {failures} differences")
    if args.out and failures == 0:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")
        print(f"wrote {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
