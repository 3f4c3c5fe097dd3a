"""What the Deep SAD reference's pretraining changes in its Deep SAD result: only the batch order.

Its pretraining transfers no weight (the ``encoder.`` key prefix, docs/deviations.md); what
else it does is draw from torch's global generator (the autoencoder's weights, one draw
per loader pass), which the reference's own shuffle reads afterwards. So with ocbench's
batches (``--same-order`` of compare_deep_sad.py) its AUROC is the same with and without
pretraining, to the last bit, and in its own order it is not. Prints the four AUROCs at
full precision for one cell, on the experiment's recipe shortened to a few epochs.

    python benchmarks/fidelity/pretraining_and_order.py --reference /tmp/Deep-SAD-PyTorch
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_deep_sad  # noqa: E402
from harness import fmnist_arrays, shorten  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of Deep-SAD-PyTorch")
    parser.add_argument("--mirror", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--normal-class", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--ae-epochs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    recipe = shorten(compare_deep_sad.RECIPE, args.ae_epochs, args.epochs)
    data = compare_deep_sad.draw(fmnist_arrays(args.mirror), args.normal_class, args.seed)
    for order in ("ocbench's", "own"):
        with_, without = (compare_deep_sad.run_reference(args.reference, data, args.seed, recipe, order, pretrain)
                          for pretrain in (True, False))
        print(f"{'its own' if order == 'own' else 'ocbench'} batch order: AUROC with its pretraining {with_!r}, "
              f"without {without!r}, equal: {with_ == without}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
