"""Stacked training benchmark: seconds per model and epoch, K models in one stack against one alone.

A report, not a test (always exits 0). For each K in ``--k`` it trains K Fashion-MNIST
LeNets as one stack (``ocbench.detectors.deep.fit_stacked``) for the autoencoder and
for one-class Deep SVDD, on K training sets of ``--n`` images (6,000: one Fashion-MNIST
class) at batch 200, and prints the stack's seconds per epoch and its seconds per model
and epoch; K = 1 is the plain one-model ``fit``. From the best per-model figures it
projects the whole one-class Fashion-MNIST table of the Deep SVDD paper: 10 classes x
10 seeds, each an autoencoder, one-class and soft-boundary Deep SVDD of 150 epochs
(CAE scores with the autoencoder and trains nothing), against the 20-minute target on
one GPU. The projection counts training epochs only (not scoring, data loading or
start-up), which the workflow's ``runs.csv`` then shows per run.

    .venv/bin/python benchmarks/stacked.py --device cuda --k 1,5,10 --epochs 3
    .venv/bin/python benchmarks/stacked.py --device cpu --k 1,3 --n 1200 --epochs 2

On a CPU a stack is slower per model than one model alone (grouped kernels), which is
why ``training.stack: auto`` stacks on CUDA only; this script prints that ratio too.
The images are uniform noise of Fashion-MNIST's shape: the time of an epoch does not
depend on the pixel values. A per-epoch time is the training loop's own epoch timing,
the median over ``--epochs`` epochs after one warm-up epoch.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import epoch_times, load_average  # noqa: E402  (the same per-epoch timing as the speed benchmark)

NET, BATCH_SIZE = "fmnist_lenet", 200
#: the table the target is about: classes x seeds, and the epochs of each trained model
TABLE_MODELS, TABLE_EPOCHS = 10 * 10, 150
TARGET_MINUTES = 20.0


def detectors(kind: str, k: int, epochs: int, device: str):
    from ocbench.detectors import AutoencoderDetector, DeepSVDD

    common = dict(net=NET, epochs=epochs + 1, batch_size=BATCH_SIZE, device=device)
    if kind == "autoencoder":
        return [AutoencoderDetector(loss="sum", seed=seed, **common) for seed in range(1, k + 1)]
    return [DeepSVDD(objective="one-class", seed=seed, **common) for seed in range(1, k + 1)]


def epoch_seconds(kind: str, k: int, xs: list, epochs: int, device: str) -> float:
    """Median seconds of one epoch of K stacked models (K = 1: the plain fit), after a warm-up epoch."""
    from ocbench.detectors.deep import fit_stacked

    models = detectors(kind, k, epochs, device)
    with epoch_times() as seconds:
        if k == 1:
            models[0].fit(xs[0])
        else:
            fit_stacked(models, xs[:k])
    return statistics.median(seconds[1:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    parser.add_argument("--k", default="1,5,10", help="stack sizes, comma-separated (default 1,5,10)")
    parser.add_argument("--n", type=int, default=6000, help="training images per model (default 6000)")
    parser.add_argument("--epochs", type=int, default=3, help="measured epochs after one warm-up (default 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)

    import torch

    from ocbench.training import resolve_device, set_up_training_process

    if args.threads:
        torch.set_num_threads(args.threads)
    set_up_training_process()
    device = resolve_device(args.device)
    sizes = sorted({int(k) for k in args.k.split(",")} | {1})
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"stacked training of {NET} on {device.type} ({name}), {args.n} images per model, batch {BATCH_SIZE}, "
          f"load {load_average():.2f}, torch {torch.__version__}")
    rng = np.random.default_rng(0)
    xs = [rng.random((args.n, 1, 28, 28), dtype=np.float32) for _ in range(max(sizes))]

    best = {}
    for kind in ("autoencoder", "deep_svdd"):
        alone = None
        for k in sizes:
            seconds = epoch_seconds(kind, k, xs, args.epochs, args.device)
            per_model = seconds / k
            alone = per_model if k == 1 else alone
            best[kind] = min(best.get(kind, per_model), per_model)
            print(f"{kind:12s} K={k:3d}: {seconds:8.3f} s/epoch for the stack, {per_model:8.4f} s per model and epoch, "
                  f"{alone / per_model:5.2f}x the one-model rate")
    # one autoencoder and two Deep SVDD objectives per (class, seed); the epoch time scales with n
    scale = 6000 / args.n
    minutes = TABLE_MODELS * TABLE_EPOCHS * scale * (best["autoencoder"] + 2 * best["deep_svdd"]) / 60
    print(f"projected one-class Fashion-MNIST table ({TABLE_MODELS} class-seed pairs x 3 models x {TABLE_EPOCHS} "
          f"epochs, training only) at the best stack sizes: {minutes:.1f} min; target {TARGET_MINUTES:.0f} min on "
          f"one H100 ({'PASS' if minutes <= TARGET_MINUTES else 'FAIL'} on this {device.type})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
