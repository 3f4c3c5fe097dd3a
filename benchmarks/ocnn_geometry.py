"""Why OC-NN ranks the anomalies of ``wbc`` below the normal samples (docs/method_notes.md).

For each seed: the pretrained autoencoder of the default recipe, then on its codes
OC-NN trained briefly (the default run's 50 epochs) and to convergence, a linear
one-class SVM (the same origin-separating geometry), an RBF one-class SVM, and the
code norm itself as a score. Prints test AUROC (%) of each.

    .venv/bin/python benchmarks/ocnn_geometry.py --dataset wbc --seeds 1 2 3 4
"""
from __future__ import annotations

import argparse
import logging

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["wbc", "wine"], default="wbc")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()
    logging.disable(logging.INFO)

    import torch
    from sklearn.metrics import roc_auc_score
    from sklearn.svm import OneClassSVM

    from ocbench.data.preprocess import preprocess
    from ocbench.data.splits import make_split
    from ocbench.data.tabular import prepare_wbc, prepare_wine
    from ocbench.detectors.autoencoder import AutoencoderDetector
    from ocbench.detectors.ocnn import OCNN

    torch.set_num_threads(1)
    prepared = {"wbc": prepare_wbc, "wine": prepare_wine}[args.dataset]()
    batch_size = 64 if args.dataset == "wbc" else 32  # config.yaml's
    recipe = dict(lr=1e-3, epochs=50, milestones=(40,), batch_size=batch_size)
    net = f"{args.dataset}_mlp"

    def auroc(labels, scores):
        return f"{100 * roc_auc_score(labels, scores):5.1f}"

    print("seed  OC-NN 50 ep  OC-NN 500 ep (lr 1e-2)  linear OC-SVM  RBF OC-SVM  code norm")
    for seed in args.seeds:
        split = make_split(prepared, "tabular", [0], seed)
        x_train, x_test = preprocess("standard_minmax", prepared["x"][split["train_idx"]],
                                     prepared["x"][split["test_idx"]], np.ones(len(split["train_idx"]), bool))
        y_test = split["test_label"]
        autoencoder = AutoencoderDetector(net=net, seed=seed, weight_decay=0.5e-3, **recipe).fit(x_train)
        z_train, z_test = autoencoder.transform(x_train), autoencoder.transform(x_test)
        brief = OCNN(net=net, autoencoder=autoencoder.autoencoder_, seed=seed, **recipe).fit(x_train)
        converged = OCNN(net=net, autoencoder=autoencoder.autoencoder_, seed=seed, lr=1e-2, epochs=500,
                         milestones=(), batch_size=batch_size).fit(x_train)
        linear = OneClassSVM(kernel="linear", nu=0.1).fit(z_train)
        rbf = OneClassSVM(kernel="rbf", gamma="scale", nu=0.1).fit(z_train)
        print(f"{seed:4d}  {auroc(y_test, brief.decision_function(x_test)):>11}  "
              f"{auroc(y_test, converged.decision_function(x_test)):>22}  "
              f"{auroc(y_test, -linear.decision_function(z_test)):>13}  "
              f"{auroc(y_test, -rbf.decision_function(z_test)):>10}  "
              f"{auroc(y_test, np.linalg.norm(z_test, axis=1)):>9}", flush=True)


if __name__ == "__main__":
    main()
