"""The timings of a calibration (``calibration.calibrate`` runs them): what one batch, one sample,
one process start... costs on this machine.

The timings (``measure``):

- ``step``, ``stacked_step``: seconds per batch of the real training loop
  (``training.train_network``, ``train_stacked``) on the net's encoder (a Deep SVDD loss)
  or autoencoder, at the batch size, on random inputs of the net's shape;
- ``forward``: seconds per sample of a pass without gradients (``training.map_batches``);
- ``ocnn_step``, ``ss_dgm_step``, ``ss_dgm_forward``: OC-NN's head and SS-DGM's model
  the same way (SS-DGM by the difference of fits of 3 and 1 epochs);
- ``shallow``, ``finch``: the method (or the clustering) fitted and scored on synthetic
  data of the run's shape at doubling training-set sizes, up to the largest the config
  needs or until one probe takes ``PROBE_SECONDS`` of CPU (past a ``max_train_samples``
  cap to twice the cap); the power law through the two largest probes is kept;
- ``record``: a run's files (``runs.run_method`` minus its fit and score), per run and per score;
- ``read``, ``preprocess``: reading and hashing a prepared file per byte; a
  preprocessing per value;
- ``start``: a new process importing what a command imports (``START_CODE``);
- ``report``: an ROC curve per run and a panel per method, an extremes picture.
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import OcbenchError

#: a shallow probe series stops once one probe takes this many CPU seconds
PROBE_SECONDS = 1.0
#: the timed part of a ``step`` or ``forward`` measurement lasts about this long
TIMED_SECONDS = 0.5
#: the steepest power law kept: no method here grows faster than cubically (SSAD's quadratic
#: program); two probes that suggest more straddle a change of regime, not a trend
MAX_EXPONENT = 3.0
#: the specs whose value is a power law in the training-set size, fitted to probes
POWER_LAWS = ("shallow", "finch")


@contextlib.contextmanager
def single_thread():
    """One thread for torch and the BLAS libraries, as a workflow job (``threads: 1``) runs."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)




def measure(spec: dict, size: int = 0) -> tuple[dict, list | None]:
    """The ``{"cpu": ..., "wall": ...}`` seconds of one spec (numbers, or laws), and the probes
    (``[n, wall, cpu]``) behind a law, taken up to ``size`` while cheap."""
    kind = spec["kind"]
    if kind in POWER_LAWS:
        return _power_law(spec, size)
    if kind == "record":
        return _record_line()
    seconds = _MEASURES[kind](spec)
    return {"cpu": float(seconds[1]), "wall": float(seconds[0])}, None


def _timed(fn) -> np.ndarray:
    """The (wall, CPU) seconds of ``fn()``, as an array: per-step and per-sample figures divide it."""
    from ..jobs.measure import Clock

    with Clock() as clock:
        fn()
    return np.array([clock.wall, clock.cpu])


@contextlib.contextmanager
def quiet(*names: str):
    """The training loop's and the detectors' log lines left out while timing them."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _network(net: str, module: str):
    from ..nets import build_autoencoder, build_network
    return build_autoencoder(net) if module == "autoencoder" else build_network(net)


def _module_loss(module: str):
    from ..detectors.autoencoder import autoencoder_loss

    if module == "autoencoder":
        return lambda forward, xb: autoencoder_loss(forward, xb, "mean")
    return lambda forward, xb: forward(xb).pow(2).sum(dim=1).mean()  # Deep SVDD's, about the centre 0


def _per_step(train, batches_per_epoch: int) -> np.ndarray:
    """Seconds per batch of ``train(epochs)``: one warm-up epoch, then enough epochs for ``TIMED_SECONDS``."""
    with quiet("ocbench.training"):
        first = _timed(lambda: train(1))[0] / batches_per_epoch
        epochs = max(1, min(50, round(TIMED_SECONDS / max(first * batches_per_epoch, 1e-6))))
        return _timed(lambda: train(epochs)) / (epochs * batches_per_epoch)


def _random(shape, device):
    import torch
    return torch.rand(*shape, generator=torch.Generator().manual_seed(0)).to(device)


def _measure_step(spec: dict) -> np.ndarray:
    from ..nets import NETS
    from ..training import TrainConfig, set_up_training_process, train_network

    set_up_training_process()
    network = _network(spec["net"], spec["module"]).to(spec["device"])
    batches = 4
    x = _random((batches * spec["batch_size"], *NETS[spec["net"]].input_shape), spec["device"])
    loss = _module_loss(spec["module"])
    return _per_step(lambda epochs: train_network(
        network, loss, [x], TrainConfig(epochs=epochs, milestones=(), batch_size=spec["batch_size"]), seed=0),
        batches)


def _measure_stacked_step(spec: dict) -> np.ndarray:
    from ..nets import NETS
    from ..training import TrainConfig, set_up_training_process, train_stacked

    set_up_training_process()
    k = spec["models"]
    networks = [_network(spec["net"], spec["module"]).to(spec["device"]) for _ in range(k)]
    batches = 4
    x = _random((k, batches * spec["batch_size"], *NETS[spec["net"]].input_shape), spec["device"])
    loss = _module_loss(spec["module"])
    return _per_step(lambda epochs: train_stacked(
        networks, loss, [x], TrainConfig(epochs=epochs, milestones=(), batch_size=spec["batch_size"]),
        seeds=list(range(k)), names=[str(i) for i in range(k)]), batches)


def _measure_forward(spec: dict) -> np.ndarray:
    import torch

    from ..nets import NETS
    from ..training import map_batches

    network = _network(spec["net"], spec["module"]).to(spec["device"]).eval()
    n = 2048
    x = _random((n, *NETS[spec["net"]].input_shape), spec["device"])

    def passes(count):
        for _ in range(count):
            map_batches(network, x)
        if spec["device"] == "cuda":
            torch.cuda.synchronize()

    first = _timed(lambda: passes(1))[0]
    count = max(1, min(20, round(TIMED_SECONDS / max(first, 1e-6))))
    return _timed(lambda: passes(count)) / (count * n)


def _measure_ocnn_step(spec: dict) -> np.ndarray:
    from ..detectors.objectives import ocnn_loss
    from ..detectors.ocnn import OCNNHead
    from ..training import TrainConfig, set_up_training_process, train_network

    set_up_training_process()
    head = OCNNHead(spec["rep_dim"], spec["hidden"]).to(spec["device"])
    batches = 8
    codes = _random((batches * spec["batch_size"], spec["rep_dim"]), spec["device"])

    def loss(module, zb):
        return ocnn_loss(module(zb), 0.1, 0.1, module.w.weight, module.V.weight)

    return _per_step(lambda epochs: train_network(
        head, loss, [codes], TrainConfig(epochs=epochs, milestones=(), batch_size=spec["batch_size"],
                                         weight_decay=0.0), seed=0), batches)


def _ss_dgm(spec: dict, epochs: int, batch_size: int = 128):
    from ..detectors.ss_dgm import SSDGM
    return SSDGM(net=spec["net"], latent_dim=spec["latent_dim"], hidden=spec["hidden"], epochs=epochs,
                 milestones=(), batch_size=batch_size, device=spec["device"], seed=0)


def _ss_dgm_data(spec: dict, n: int):
    from ..nets import NETS

    x = np.random.default_rng(0).random((n, *NETS[spec["net"]].input_shape), dtype=np.float32)
    semi = np.zeros(n, dtype=np.int64)
    semi[: max(2, n // 20)] = -1  # a few labelled anomalies, which SS-DGM needs
    return x, semi


def _measure_ss_dgm_step(spec: dict) -> np.ndarray:
    from ..training import set_up_training_process

    set_up_training_process()
    batches = 4
    x, semi = _ss_dgm_data(spec, batches * spec["batch_size"])
    with quiet("ocbench.training"):
        _ss_dgm(spec, 1, spec["batch_size"]).fit(x, semi)  # warm-up
        one = _timed(lambda: _ss_dgm(spec, 1, spec["batch_size"]).fit(x, semi))
        three = _timed(lambda: _ss_dgm(spec, 3, spec["batch_size"]).fit(x, semi))
    return np.maximum(three - one, 0.0) / (2 * batches)


def _measure_ss_dgm_forward(spec: dict) -> np.ndarray:
    x, semi = _ss_dgm_data(spec, 512)
    with quiet("ocbench.training"):
        detector = _ss_dgm(spec, 1).fit(x, semi)
    return _timed(lambda: detector.decision_function(x)) / len(x)


def synthetic_rows(n: int, dim: int, rng: np.random.Generator, shift: float = 0.0) -> np.ndarray:
    """``n`` rows in [0, 1]^dim that vary along 10 directions, as images and tables do, not uniform noise."""
    basis = np.random.default_rng(12345).normal(size=(10, dim))
    rows = 0.5 + shift + 0.15 * rng.normal(size=(n, 10)) @ basis / math.sqrt(10)
    return np.clip(rows, 0.0, 1.0).astype(np.float32)


def _probe_shallow(spec: dict, n: int) -> np.ndarray:
    from ..detectors import METHODS

    method = METHODS[spec["method"]]
    rng = np.random.default_rng(n)
    dim = spec["dim"]
    x_train = synthetic_rows(n, dim, rng)
    semi = np.zeros(n, dtype=np.int64)
    labelled = int(round(spec["labelled_ratio"] * n))
    if labelled:
        x_train[:labelled] = synthetic_rows(labelled, dim, rng, shift=0.2)
        semi[:labelled] = -1
    n_val, n_eval = int(round(spec["validation_ratio"] * n)), max(2, int(round(spec["test_ratio"] * n)))
    # a tenth anomalies, and one at least: a run's validation share holds both labels (splits.holdout_validation),
    # and with one label the methods skip their grid
    anomalies = max(1, n_val // 10) if n_val >= 2 else 0
    x_val = np.concatenate([synthetic_rows(n_val - anomalies, dim, rng), synthetic_rows(anomalies, dim, rng, 0.2)])
    y_val = np.r_[np.zeros(n_val - anomalies), np.ones(anomalies)].astype(np.int64)
    x_eval = synthetic_rows(n_eval, dim, rng)
    detector = method.factory(dict(spec["params"]), net=None, device="cpu", seed=0, autoencoder=None)
    args = (x_train, semi if detector.uses_labels else None)
    if getattr(detector, "uses_validation", False) and n_val >= 2:
        args += (x_val, y_val)
    return _timed(lambda: (detector.fit(*args), detector.decision_function(x_eval)))


def _probe_finch(spec: dict, n: int) -> np.ndarray:
    from ..detectors.multi_radius import finch_clusters

    codes = synthetic_rows(n, spec["dim"], np.random.default_rng(n))
    return _timed(lambda: finch_clusters(codes, metric=spec["metric"]))


def _power_law(spec: dict, size: int):
    """Probes at doubling sizes up to ``size`` (the last one at ``size`` itself) until one takes
    ``PROBE_SECONDS`` of CPU; the power laws (wall and CPU) through the two largest.

    A method that fits on at most ``max_train_samples`` (``cap``) costs, past the cap, its
    fit on the cap and scores that grow with the size: it is probed on up to the cap while
    the next probe is expected to take less than ten times ``PROBE_SECONDS``, and then,
    where the config needs more, at the size needed (or twice the cap). Its law is
    ``capped``: the power law below the cap, the line through the probes above it."""
    probe = _probe_shallow if spec["kind"] == "shallow" else _probe_finch
    cap = _training_cap(spec)
    limit = min(size, cap) if size and cap else (size or cap)
    probes = []
    n = 32
    while True:
        seconds = probe(spec, n)
        probes.append([n, float(seconds[0]), float(seconds[1])])
        if n >= 16384 or (limit and n >= limit):
            break
        next_n = min(2 * n, limit) if limit and 2 * n > limit else 2 * n
        if len(probes) >= 2:
            growth = seconds[1] / max(probes[-2][2], 1e-9)
            expected = seconds[1] * growth ** math.log2(next_n / n)
            if (cap is None and seconds[1] >= PROBE_SECONDS) or (cap and expected >= 10 * PROBE_SECONDS):
                break
        n = next_n
    below = {clock: _law_through(probes[-2], probes[-1], column, "power")
             for clock, column in (("wall", 1), ("cpu", 2))}
    if cap is None:
        return below, probes
    above = None
    if probes[-1][0] == cap and size > cap:
        probes.append([min(size, 2 * cap), *map(float, probe(spec, min(size, 2 * cap)))])
        above = {clock: _law_through(probes[-2], probes[-1], column, "linear")
                 for clock, column in (("wall", 1), ("cpu", 2))}
    return {clock: {"form": "capped", "cap": cap, "below": below[clock], "above": above and above[clock]}
            for clock in ("wall", "cpu")}, probes


def _training_cap(spec: dict):
    """The most training samples a shallow method fits on (``max_train_samples``), or None."""
    if spec["kind"] != "shallow":
        return None
    from ..detectors import METHODS

    detector = METHODS[spec["method"]].factory(dict(spec["params"]), net=None, device="cpu", seed=0, autoencoder=None)
    return getattr(detector, "max_train_samples", None)


def _law_through(first, second, column: int, form: str) -> dict:
    """The power law (or line) through two probes ``[n, wall, cpu]``, of the wall or CPU ``column``;
    never decreasing with the size."""
    (n1, t1), (n2, t2) = (first[0], first[column]), (second[0], second[column])
    if form == "power":
        b = min(max(math.log(max(t2, 1e-9) / max(t1, 1e-9)) / math.log(n2 / n1), 0.0), MAX_EXPONENT)
        return {"form": "power", "a": t2 / n2 ** b, "b": b}
    b = max((t2 - t1) / (n2 - n1), 0.0)
    return {"form": "linear", "a": max(t1 - b * n1, 0.0), "b": b}


def _record_line():
    """A run's files: ``jobs.method_run.run_method`` of a cheap method, minus its fit and score, at two test sizes."""
    from ..data import RunData
    from ..jobs.method_run import run_method
    from ..jobs.plan import one_run_plan

    points = []
    with tempfile.TemporaryDirectory() as folder:
        for n_test in (200, 200, 4000):  # the first is a warm-up
            rng = np.random.default_rng(n_test)
            data = RunData(x_train=synthetic_rows(64, 8, rng), semi_train=np.zeros(64, dtype=np.int64),
                           train_class=np.zeros(64, dtype=np.int64), x_test=synthetic_rows(n_test, 8, rng),
                           y_test=np.r_[np.zeros(n_test - 20), np.ones(20)].astype(np.int64),
                           test_index=np.arange(n_test), test_class=np.zeros(n_test, dtype=np.int64),
                           validation=np.zeros(0, dtype=np.int64), evaluation=np.arange(n_test), split_info={})
            metrics = {}
            plan, run = one_run_plan("isoforest", prepared="", split="", preprocessing="unit", seed=0,
                                     run_dir=Path(folder) / f"run{len(points)}", hyper_parameters={"n_estimators": 5})
            whole = _timed(lambda: metrics.update(run_method(plan, run, data=data)))
            fitted = np.array([metrics["train_time_s"] + metrics["test_time_s"],
                               metrics["train_cpu_s"] + metrics["test_cpu_s"]])
            points.append([n_test, *map(float, whole - fitted)])
    return {clock: _law_through(points[1], points[2], column, "linear")
            for clock, column in (("wall", 1), ("cpu", 2))}, points[1:]


def _measure_read(spec: dict) -> np.ndarray:
    from ..data.prepared import load_npz, save_npz
    from ..files import sha256_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prepared.npz"
        array = np.random.default_rng(0).integers(0, 256, size=(16 * 2**20,), dtype=np.uint8)
        save_npz({"x": array}, path)
        load_npz(path, ("x",), "calibration")  # warm the page cache, as a workflow's repeated reads find it
        seconds = _timed(lambda: (load_npz(path, ("x",), "calibration"), sha256_file(path)))
    return seconds / array.nbytes


def _measure_preprocess(spec: dict) -> np.ndarray:
    from ..data.preprocess import DATA_KINDS, preprocess

    rng = np.random.default_rng(0)
    if DATA_KINDS[spec["preprocessing"]] == "image":
        x = rng.integers(0, 256, size=(4000, 1, 28, 28), dtype=np.uint8)
    else:
        x = rng.normal(size=(20000, 30))
    mask = np.ones(len(x), dtype=bool)
    preprocess(spec["preprocessing"], x, x[:10], mask)  # warm-up
    return _timed(lambda: preprocess(spec["preprocessing"], x, x[:10], mask)) / x.size


#: what a command imports before it works: the code a new process of it runs
START_CODE = {
    "light": "import ocbench.cli, ocbench.jobs.batch, ocbench.config, ocbench.data.splits",
    # a tabular set's jobs: its source and its 60/40 split come from scikit-learn
    "tabular": ("import ocbench.cli, ocbench.jobs.batch, ocbench.config, ocbench.data.splits, ocbench.data.tabular\n"
                "import sklearn.datasets, sklearn.model_selection, sklearn.preprocessing"),
    "report": "import ocbench.cli, ocbench.report.commands, ocbench.report.collect, ocbench.report.tables",
    "plot": "import ocbench.cli, ocbench.report.commands, ocbench.report.plots, ocbench.report.summary",
    # every detector class, but those whose solver is not installed (SSAD's cvxopt on a GPU machine
    # that the GPU run equips with the workflow's wheels only): their runs cannot start there either
    "run-batch": ("import ocbench.cli, ocbench.jobs.batch, ocbench.data\n"
                  "from ocbench.detectors import METHODS\n"
                  "for spec in METHODS.values():\n"
                  "    try:\n"
                  "        spec.detector\n"
                  "    except ImportError:\n"
                  "        pass\n"
                  "from ocbench.training import set_up_training_process\n"
                  "set_up_training_process()"),
}


def _measure_start(spec: dict) -> np.ndarray:
    import resource

    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in [str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH")]
                                          if p))
    command = [sys.executable, "-c", START_CODE[spec["command"]]]
    times = []
    for _ in range(3):  # the first warms the page cache, as the workflow's earlier jobs do
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append([wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime])
        if result.returncode != 0:
            raise OcbenchError(f"calibrating the start of {spec['command']} failed: {result.stderr.strip()[-300:]}")
    return np.mean(times[1:], axis=0)


def _measure_report(spec: dict) -> np.ndarray:
    from ..data.prepared import save_npz
    from ..report import plots

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rng = np.random.default_rng(0)
        n = 1000
        scores = folder / "runs" / "mnist" / "one_class" / "0" / "seed1" / "kde" / "cpu" / "scores.csv"
        scores.parent.mkdir(parents=True)
        scores.write_text("index,label,score\n" + "".join(
            f"{i},{int(i % 10 == 0)},{float(s)!r}\n" for i, s in enumerate(rng.random(n))))
        if spec["what"] in ("roc_curve", "roc_panel"):
            # a panel per method, a curve per run: 8 runs of one method, then of 8 methods
            paths = []
            for i in range(8):
                method = "kde" if spec["what"] == "roc_curve" else f"method{i}"
                path = folder / "runs" / "mnist" / "one_class" / str(i) / "seed2" / method / "cpu" / "scores.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(scores, path)
                paths.append(path)
            plots.plot_roc(paths[:1], folder / "warm.png")
            one = _timed(lambda: plots.plot_roc(paths[:1], folder / "one.png"))
            return (_timed(lambda: plots.plot_roc(paths, folder / "roc.png")) - one) / (len(paths) - 1)
        prepared = folder / "prepared.npz"
        save_npz({"x_train": np.zeros((1, 1, 28, 28), np.uint8), "y_train": np.zeros(1, np.int64),
                  "x_test": rng.integers(0, 256, size=(n, 1, 28, 28), dtype=np.uint8),
                  "y_test": np.zeros(n, np.int64)}, prepared)
        plots.plot_extremes(prepared, scores, folder / "warm.png")
        return _timed(lambda: plots.plot_extremes(prepared, scores, folder / "extremes.png"))


_MEASURES = {"step": _measure_step, "stacked_step": _measure_stacked_step, "forward": _measure_forward,
             "ocnn_step": _measure_ocnn_step, "ss_dgm_step": _measure_ss_dgm_step,
             "ss_dgm_forward": _measure_ss_dgm_forward, "read": _measure_read, "preprocess": _measure_preprocess,
             "start": _measure_start, "report": _measure_report}
