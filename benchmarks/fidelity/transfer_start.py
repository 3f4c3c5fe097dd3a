"""Where Deep SAD with the pretraining transfer starts, and where it ends, cell by cell.

Reads a workflow run of ``workflow/experiments/fidelity_fmnist_deep_sad.yaml`` with
``pretrain: true`` (``--results``, its outdir) and prints per (class, seed) three AUROCs on
the whole test split: the pretrained autoencoder's own (its reconstruction error, as
``cae`` scores it); Deep SAD's at the start, before its first step (the centre the mean
code of the training split), from the encoder's weights transferred into the network
(``start_auroc``) and, beside it, from the network's initial weights for the seed
(``init: deep_sad``, what ``pretrain: false`` and the reference start from:
``start_without_transfer_auroc``); and Deep SAD's after training (the run's
``metrics.json``). All are of the same split, drawn again here as ``compare_deep_sad.py``
draws it.

    python benchmarks/fidelity/transfer_start.py --results /tmp/xfer/results --classes 0-9 --seeds 1 \
        --out /tmp/xfer/start.csv
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from by_class import write_csv  # noqa: E402
from compare_deep_sad import deep_sad_run, draw, handed_autoencoder  # noqa: E402
from harness import fmnist_arrays, int_list  # noqa: E402


def start_auroc(autoencoder_path: Path | None, seed: int, x_train: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray) -> float:
    """AUROC (%) of Deep SAD's scores before its first step (``DeepSAD.begin_fit``): the
    network holds the encoder's weights (or, with no autoencoder, its initial weights for the
    seed), the centre is the mean code of the training split."""
    from ocbench.detectors.deep import load_autoencoder, transfer_encoder_weights
    from ocbench.detectors.objectives import init_center, squared_distance
    from ocbench.nets import as_net_input, build_network
    from ocbench.nets.reference_init import apply_init
    from ocbench.training import map_batches

    network = build_network("fmnist_lenet")
    apply_init(network, "fmnist_lenet", "deep_sad", seed, "network")
    if autoencoder_path is not None:
        transfer_encoder_weights(network, load_autoencoder(autoencoder_path)[0])
    network.eval()
    train = torch.as_tensor(as_net_input(x_train, "fmnist_lenet"))
    test = torch.as_tensor(as_net_input(x_test, "fmnist_lenet"))
    center = init_center(map_batches(network, train))
    return 100 * roc_auc_score(y_test, squared_distance(map_batches(network, test), center).numpy())


def autoencoder_auroc(autoencoder_path: Path, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """AUROC (%) of the pretrained autoencoder's reconstruction error (the ``cae`` score)."""
    from ocbench.detectors.autoencoder import AutoencoderDetector

    return 100 * roc_auc_score(y_test, AutoencoderDetector.load(autoencoder_path).decision_function(x_test))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, required=True, help="outdir of the experiment run with pretrain: true")
    parser.add_argument("--mirror", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--classes", type=int_list, default=int_list("0-9"))
    parser.add_argument("--seeds", type=int_list, default=int_list("1"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    arrays = fmnist_arrays(args.mirror)
    rows = []
    for normal_class in args.classes:
        for seed in args.seeds:
            run = deep_sad_run(args.results, normal_class, seed)
            autoencoder = handed_autoencoder(run)
            x_train, _, x_test, y_test = draw(arrays, normal_class, seed)
            row = {"class": normal_class, "seed": seed,
                   "autoencoder_auroc": round(autoencoder_auroc(autoencoder, x_test, y_test), 2),
                   "start_auroc": round(start_auroc(autoencoder, seed, x_train, x_test, y_test), 2),
                   "start_without_transfer_auroc": round(start_auroc(None, seed, x_train, x_test, y_test), 2),
                   "end_auroc": round(100 * json.loads((run / "metrics.json").read_text())["auroc"], 2)}
            rows.append(row)
            print(f"class {normal_class} seed {seed}: autoencoder {row['autoencoder_auroc']:6.2f}, Deep SAD at the "
                  f"start {row['start_auroc']:6.2f} (without the transfer {row['start_without_transfer_auroc']:6.2f}), "
                  f"after training {row['end_auroc']:6.2f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(args.out, rows)
    for column in ("autoencoder_auroc", "start_auroc", "start_without_transfer_auroc", "end_auroc"):
        print(f"mean {column}: {np.mean([row[column] for row in rows]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
