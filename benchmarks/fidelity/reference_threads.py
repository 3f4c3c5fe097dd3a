"""How far the Deep SVDD reference's autoencoder gradients move with torch's thread count.

The gradients of one batch, from the same weights (the reference's draws for the seed),
computed with one thread and with two: summation orders differ, so the floats do. A cell's
AUROC therefore depends on the thread count too, which every cell file records.

    python benchmarks/fidelity/reference_threads.py --reference /tmp/Deep-SVDD-PyTorch
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import import_reference, load_fmnist, reference_preprocess  # noqa: E402


def gradients(checkout: Path, x: torch.Tensor, seed: int, threads: int) -> dict[str, torch.Tensor]:
    """The reference autoencoder's gradients of its loss (per-sample sum of squared errors, batch mean)."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    autoencoder = import_reference(checkout, "networks.main").build_autoencoder("mnist_LeNet")
    autoencoder.train()
    torch.mean(torch.sum((autoencoder(x) - x) ** 2, dim=(1, 2, 3))).backward()
    return {name: p.grad.clone() for name, p in autoencoder.named_parameters()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of Deep-SVDD-PyTorch")
    parser.add_argument("--mirror", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--normal-class", type=int, default=0)
    parser.add_argument("--batch", type=int, default=200, help="the first N training images of the class")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    data = load_fmnist(args.mirror, args.normal_class, train_subset=args.batch)
    x, _ = reference_preprocess(args.reference, data)
    one, two = (gradients(args.reference, x, args.seed, threads) for threads in (1, 2))
    print(f"{len(x)} images of class {args.normal_class}, seed {args.seed}: the gradients at 1 and 2 threads differ "
          f"by up to {max((one[k] - two[k]).abs().max().item() for k in one):.2g} (largest gradient "
          f"{max(g.abs().max().item() for g in one.values()):.3g}); identical: "
          f"{all(torch.equal(one[k], two[k]) for k in one)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
