"""Component-by-component comparison of ocbench with the Deep SVDD reference, on the same weights and data.

Fashion-MNIST from the local mirror, one normal class, a subset (cheap on a CPU). Each
line compares one step of the pipeline, fed the same input on both sides:

1. preprocessing: ocbench's ``gcn_minmax`` against the reference's transforms;
2. initial weights: ``init: deep_svdd`` against the reference's constructors, seed 1;
3. forward pass (float64, train and eval mode): ocbench's autoencoder and network
   (fused decoder, channels-last) against the reference's modules with the same weights;
4. the autoencoder loss on one batch: ``loss: sum`` against the reference's expression;
5. one optimiser step (Adam, the recipe's lr and weight decay, one batch of 200):
   ocbench's training loop against the reference's ``AETrainer``;
6. the centre c: ocbench's ``init_center`` against the reference's ``init_center_c``, for
   an encoder trained a few epochs (a fresh one has codes so small that every
   coordinate is clamped to +-0.1, which would compare nothing);
7. the test scores and AUROC of one-class Deep SVDD with that network and centre.

    python benchmarks/fidelity/compare_components.py --reference /tmp/Deep-SVDD-PyTorch \
        --mirror /usr/share/datasets/fashion-mnist --normal-class 5 --train 1000 --test 2000

Prints one line per comparison: the largest absolute difference (or both values).
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (ReferenceDataset, import_reference, load_fmnist, load_recipe,  # noqa: E402
                     ocbench_preprocess, reference_preprocess)

from ocbench.detectors.autoencoder import autoencoder_loss  # noqa: E402
from ocbench.detectors.objectives import init_center, squared_distance  # noqa: E402
from ocbench.nets import build_autoencoder, build_network  # noqa: E402
from ocbench.nets.reference_init import apply_init  # noqa: E402
from ocbench.training import TrainConfig, train_network  # noqa: E402


def reference_layout(state: dict) -> dict:
    """ocbench's autoencoder state_dict in the reference's flat layout (mnist_LeNet: same names)."""
    return {key.split(".", 1)[1]: value.contiguous() for key, value in state.items()}


def max_diff(a, b) -> float:
    return float((torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max())


def report(name: str, value: str) -> None:
    print(f"| {name} | {value} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of Deep-SVDD-PyTorch")
    parser.add_argument("--mirror", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--normal-class", type=int, default=5)
    parser.add_argument("--train", type=int, default=1000, help="first N training images of the class")
    parser.add_argument("--test", type=int, default=2000, help="first N test images")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ae-epochs", type=int, default=5, help="epochs of the encoder used for c and scores")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    recipe = load_recipe()
    ref_nets = import_reference(args.reference, "networks.mnist_LeNet")
    ref_ae_trainer = import_reference(args.reference, "optim.ae_trainer").AETrainer
    ref_svdd_trainer = import_reference(args.reference, "optim.deepSVDD_trainer").DeepSVDDTrainer

    data = load_fmnist(args.mirror, args.normal_class, args.train, args.test)
    print(f"Fashion-MNIST class {args.normal_class}: {len(data.x_train)} training images, "
          f"{len(data.x_test)} test images ({int(data.y_test.sum())} anomalies); seed {args.seed}\n")
    print("| component | largest absolute difference |\n| --- | --- |")

    # 1. preprocessing
    ours_train, ours_test = ocbench_preprocess(data)
    ref_train, ref_test = reference_preprocess(args.reference, data)
    report("GCN-L1 + min-max, training images", f"{max_diff(ours_train, ref_train):.1e}")
    report("GCN-L1 + min-max, test images", f"{max_diff(ours_test, ref_test):.1e}")

    # 2. initial weights
    torch.manual_seed(args.seed)
    ref_net, ref_ae = ref_nets.MNIST_LeNet(), ref_nets.MNIST_LeNet_Autoencoder()
    ae = build_autoencoder("mnist_lenet")
    apply_init(ae, "mnist_lenet", "deep_svdd", args.seed, "autoencoder")
    net = build_network("mnist_lenet")
    apply_init(net, "mnist_lenet", "deep_svdd", args.seed, "network")
    init_diff = max(max_diff(v, ref_ae.state_dict()[k]) for k, v in reference_layout(ae.state_dict()).items())
    init_diff = max(init_diff, max(max_diff(v, ref_net.state_dict()[k]) for k, v in net.state_dict().items()))
    report(f"initial weights, seed {args.seed} (every tensor of network and autoencoder)", f"{init_diff:.1e}")

    # 3. forward pass, float64, same weights (BN running statistics made non-trivial first)
    x64 = torch.as_tensor(ours_train[:200], dtype=torch.float64)
    for mode in ("train", "eval"):
        ae64, ref64 = copy.deepcopy(ae).double(), copy.deepcopy(ref_ae).double()
        with torch.no_grad():
            ae64.train()(x64)  # running statistics from one batch
        ref64.load_state_dict(reference_layout(ae64.state_dict()))
        ae64.train(mode == "train")
        ref64.train(mode == "train")
        ref_net64 = copy.deepcopy(ref_net).double()
        ref_net64.load_state_dict({k: v for k, v in ref64.state_dict().items() if k in ref_net64.state_dict()})
        ref_net64.train(mode == "train")
        with torch.no_grad():
            ours_rec, theirs_rec = ae64(x64), ref64(x64)
            ours_code, ref_code = ae64.encoder(x64), ref_net64(x64)
        report(f"forward, float64, {mode} mode: codes / reconstructions",
               f"{max_diff(ours_code, ref_code):.1e} / {max_diff(ours_rec, theirs_rec):.1e}")

    # 4. the autoencoder loss on one batch (float32)
    ref_ae.load_state_dict(reference_layout(ae.state_dict()))
    ae.train(), ref_ae.train()
    xb, ref_xb = torch.as_tensor(ours_train[:200]), ref_train[:200]
    with torch.no_grad():
        ours_loss = autoencoder_loss(copy.deepcopy(ae), xb, "sum").item()
        out = copy.deepcopy(ref_ae)(ref_xb)
        theirs_loss = torch.mean(torch.sum((out - ref_xb) ** 2, dim=tuple(range(1, out.dim())))).item()
    report("autoencoder loss (sum), one batch of 200: ocbench / reference", f"{ours_loss:.6f} / {theirs_loss:.6f}")

    # 5. one optimiser step on the same batch (the whole batch: the order of samples does not matter)
    ae_rec = recipe["autoencoder"]
    ours_ae = copy.deepcopy(ae)
    config = TrainConfig(lr=ae_rec["lr"], epochs=1, milestones=tuple(ae_rec["milestones"]), batch_size=200,
                         weight_decay=ae_rec["weight_decay"])
    train_network(ours_ae, lambda a, b: autoencoder_loss(a, b, "sum"), [xb], config, seed=args.seed)
    trainer = ref_ae_trainer("adam", lr=ae_rec["lr"], n_epochs=1, lr_milestones=tuple(ae_rec["milestones"]),
                             batch_size=200, weight_decay=ae_rec["weight_decay"], device="cpu")
    their_ae = trainer.train(ReferenceDataset(ref_xb, ref_test[:10], data.y_test[:10]), copy.deepcopy(ref_ae))
    ours_state, their_state, start = reference_layout(ours_ae.state_dict()), their_ae.state_dict(), ref_ae.state_dict()
    weights = [k for k in ours_state if k.endswith("weight")]
    statistics = [k for k in ours_state if "running" in k]
    step = max(max_diff(ours_state[k], their_state[k]) for k in weights)
    moved = min(float((ours_state[k] - start[k]).abs().min()) for k in weights)
    report("one Adam step (lr 1e-4, weight decay 0.5e-3): every weight",
           f"{step:.1e} (the step moves every weight by at least {moved:.1e})")
    relative = max(max_diff(ours_state[k], their_state[k]) / float(their_state[k].abs().max()) for k in statistics)
    report("one Adam step: batch-norm running statistics, relative", f"{relative:.1e}")

    # 6. the centre c, on the training subset, from an encoder trained a little (codes away from 0)
    train_network(ours_ae, lambda a, b: autoencoder_loss(a, b, "sum"), [torch.as_tensor(ours_train)],
                  TrainConfig(lr=1e-3, epochs=args.ae_epochs, milestones=(), batch_size=200,
                              weight_decay=ae_rec["weight_decay"]), seed=args.seed)
    net.load_state_dict(ours_ae.encoder.state_dict())
    ref_net.load_state_dict({k: v.contiguous() for k, v in net.state_dict().items()})
    net.eval()
    with torch.no_grad():
        ours_c = init_center(net(torch.as_tensor(ours_train)))
    svdd = ref_svdd_trainer("one-class", 0.0, None, 0.1, device="cpu", batch_size=200)
    ref_dataset = ReferenceDataset(ref_train, ref_test, data.y_test)
    their_c = svdd.init_center_c(ref_dataset.loaders(200)[0], ref_net)
    clamped = int((ours_c.abs() == 0.1).sum())
    report(f"centre c (32 coordinates, {clamped} clamped to +-0.1; encoder trained {args.ae_epochs} epochs at lr 1e-3)",
           f"{max_diff(ours_c, their_c):.1e} (largest |c_i| {float(their_c.abs().max()):.2f})")

    # 7. scores and AUROC of one-class Deep SVDD on the test subset, same network, same c
    with torch.no_grad():
        ours_scores = squared_distance(net(torch.as_tensor(ours_test)), ours_c).numpy()
    svdd.c = their_c
    svdd.test(ref_dataset, ref_net)
    idx, _, their_scores = zip(*svdd.test_scores)
    their_scores = np.asarray(their_scores)[np.argsort(idx)]
    report("test scores d = ||phi(x) - c||^2 (relative)",
           f"{max_diff(ours_scores, their_scores) / float(np.abs(their_scores).max()):.1e}")
    ours_auc = 100 * roc_auc_score(data.y_test, ours_scores)
    report("AUROC (%) of those scores: ocbench / reference", f"{ours_auc:.4f} / {100 * svdd.test_auc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
