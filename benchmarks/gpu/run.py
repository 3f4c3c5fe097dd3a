"""The GPU run: the figures that need a GPU, in one command that fits the short time a GPU machine is lent.

    bash benchmarks/gpu/run.sh OUTDIR               # on a GPU machine (docs/benchmarks.md, "The GPU run")
    bash benchmarks/gpu/run.sh OUTDIR --tiny        # the same steps on this CPU, tiny, in minutes

``run.sh`` installs the carried wheels (``.whl/``, ``make gpu-wheels``) and starts this
driver, which runs four steps, the most valuable first, each until its share of
``--budget`` seconds is spent (a step that finishes early leaves its time to the next):

1. ``calibration``: ``ocbench estimate`` of this run's two workflows on the device, which
   times what the cost model lacks (``DATADIR/calibration/cuda.json``, and the host's
   ``cpu.json``) and prints their predicted times; then the device timings every preset
   of ``workflow/experiments/`` needs, until the step's time is spent;
2. ``stacked``: ``benchmarks/stacked.py --device cuda --k 1,5,10,20`` (``make bench-stacked-gpu``);
3. ``oneclass``: the one-class Fashion-MNIST table (``workflow/experiments/deep_svdd_fmnist.yaml``:
   10 classes x 10 seeds, 150 + 150 epochs, CAE and both Deep SVDD objectives) through the
   workflow, in chunks of seeds;
4. ``deep_sad``: the Fashion-MNIST row gamma_l = 0.01 of the Deep SAD preset at its recipe
   (10 normal x 9 known classes, seeds 1-3), with the pretraining transfer (Deep SAD,
   SS-DGM, hybrid SSAD, the supervised classifier) and without it (the methods that start
   from the pretrained encoder: Deep SAD and the supervised classifier), in chunks of
   known classes, then of seeds.

A workflow step runs Snakemake once per chunk, each chunk a larger grid than the last, so
that every finished chunk leaves the whole report of what it holds; a chunk starts only
when the time of the last one, scaled by its new batch jobs, fits in what the step has left,
and one that runs out of time is stopped (the report of the chunk before stays). The GPU's
utilisation and memory are sampled every 2 s throughout. OUTDIR receives at most 8 files:
``run.log`` (everything the commands printed), ``steps.csv`` (each step and chunk: start,
seconds, budget, outcome), ``gpu_utilization.csv``, ``stacked.txt``, the calibration
(``cuda-<GPU model>.json``, as ``src/ocbench/cost/calibrations/`` ships it, and the host's
``host-cpu.json``; ``calibration-cpu.json`` with ``--tiny``), and per workflow a ``.tar.gz`` of
its tables, published comparison, summary, configuration, logs and the configs of its chunks.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "workflow" / "experiments"
ONECLASS_PRESET = EXPERIMENTS / "deep_svdd_fmnist.yaml"
DEEP_SAD_PRESET = EXPERIMENTS / "deep_sad_iclr2020.yaml"
DEEP_SAD_SETTING = "gamma_l_0.01"
#: the Deep SAD row's methods with the transfer, and without it: only the methods that start from
#: the pretrained encoder change (SS-DGM trains from scratch, hybrid SSAD reads the autoencoder either way)
TRANSFER_METHODS = ("deep_sad", "ss_dgm", "supervised", "ssad_hybrid")
NO_TRANSFER_METHODS = ("deep_sad", "supervised")
VARIANTS = ("transfer", "no_transfer")

#: each step's share of --budget, in the order the steps run
SHARES = {"calibration": 0.15, "stacked": 0.12, "oneclass": 0.41, "deep_sad": 0.32}
DEFAULT_BUDGET, TINY_BUDGET = 480, 1800
#: CUDA batch jobs a workflow runs at once on the one GPU (several processes keep it busier
#: than one stack of small networks does)
GPU_SLOTS = 5
#: the chunks: the one-class table by seeds; the Deep SAD row by known classes of seed 1, then seeds
ONECLASS_CHUNKS = ([1, 2], [1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7], list(range(1, 11)))
DEEP_SAD_CHUNKS = (([1], [0]), ([1], [0, 1]), ([1], [0, 1, 2, 3]), ([1], [0, 1, 2, 3, 4, 5, 6]), ([1], list(range(10))),
                   ([1, 2], list(range(10))), ([1, 2, 3], list(range(10))))
#: with --tiny, the presets' CPU timings get at most this many seconds (a sample of them: the code path)
TINY_PRESET_SECONDS = 20
#: what comes back: at most this many files of at most this many bytes
MAX_FILES, MAX_BYTES = 8, 16 * 2**20
SAMPLE_SECONDS = 2
#: a first chunk starts only with this much of its step's time left (Snakemake, the data and one batch)
MIN_CHUNK_SECONDS = 30
STOP_GRACE_SECONDS = 15


def now_text() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------- the configs

def _one_epoch(config: dict) -> None:
    for block in ("network", "autoencoder"):
        config["training"][block].update(epochs=1, milestones=[])


def oneclass_config(seeds, work: Path, mirror: Path, tiny: bool) -> dict:
    """The one-class Fashion-MNIST preset for ``seeds``, in ``work``, reading ``mirror``
    (tiny: classes 0 and 1, one epoch, on the CPU)."""
    config = yaml.safe_load(ONECLASS_PRESET.read_text())
    config.update(datadir=str(work / "data"), outdir=str(work / "oneclass_fmnist"), seeds=list(seeds),
                  devices=["cpu" if tiny else "cuda"], allow_failed_runs=True, extremes_seeds=[])
    config["datasets"]["fmnist"]["mirror"] = str(mirror)
    if tiny:
        config["datasets"]["fmnist"]["normal_classes"] = [0, 1]
        _one_epoch(config)
        config["method_params"]["deep_svdd_softboundary"]["warm_up_epochs"] = 0
    return config


def deep_sad_config(variant: str, seeds, known, work: Path, mirror: Path, tiny: bool, ssad: bool = True) -> dict:
    """The Deep SAD preset restricted to Fashion-MNIST at gamma_l = 0.01, the known classes ``known``
    and ``seeds``, with the pretraining transfer (``variant`` transfer) or without (no_transfer);
    ``ssad``: whether hybrid SSAD runs (its solver, cvxopt, may be absent). Tiny: normal class 0,
    one epoch, on the CPU."""
    preset = yaml.safe_load(DEEP_SAD_PRESET.read_text())
    wanted = TRANSFER_METHODS if variant == "transfer" else NO_TRANSFER_METHODS
    methods = [m for m in preset["methods"] if m in wanted and (ssad or m != "ssad_hybrid")]
    setting = dict(preset["settings"][DEEP_SAD_SETTING], known_outlier_class=sorted(known))
    fmnist = dict(preset["datasets"]["fmnist"], settings=[DEEP_SAD_SETTING], mirror=str(mirror))
    fmnist["method_params"] = {m: p for m, p in fmnist.get("method_params", {}).items() if m in methods}
    config = {key: preset[key] for key in ("training", "validation_fraction")}
    config.update(
        datadir=str(work / "data"), outdir=str(work / "deep_sad_fmnist" / variant), seeds=list(seeds),
        devices=["cpu" if tiny else "cuda"], methods=methods, settings={DEEP_SAD_SETTING: setting},
        method_params={m: p for m, p in preset["method_params"].items() if m in methods},
        datasets={"fmnist": fmnist}, extremes_seeds=[], allow_failed_runs=True)
    config["training"]["pretrain"] = variant == "transfer"
    if tiny:
        fmnist["normal_classes"] = [0]
        _one_epoch(config)
        if "ss_dgm" in methods:
            fmnist["method_params"]["ss_dgm"]["epochs"] = 1
        if "ssad_hybrid" in methods:
            config["method_params"]["ssad_hybrid"] = {"max_train_samples": 200}
    return config


def write_config(config: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def new_batches(previous, current) -> int:
    """Batch jobs a chunk adds: one per (seed, known class) pair, or per seed for the one-class table."""
    return len(set(current) - set(previous or ()))


def chunk_fits(last_seconds: float | None, last_batches: int, batches: int, left: float) -> bool:
    """Whether a chunk of ``batches`` new batch jobs fits in ``left`` seconds, at the pace of the last
    chunk (``last_batches`` in ``last_seconds``), as if the batches did not run faster side by side;
    a first chunk, whenever MIN_CHUNK_SECONDS are left."""
    if last_seconds is None:
        return left > MIN_CHUNK_SECONDS
    return last_seconds * batches / max(last_batches, 1) <= left


# --------------------------------------------------------------------------- commands

@dataclass
class Outcome:
    label: str
    rc: int | None
    seconds: float
    timed_out: bool

    @property
    def status(self) -> str:
        return "timeout" if self.timed_out else ("ok" if self.rc == 0 else f"failed ({self.rc})")


@dataclass
class Run:
    out: Path
    work: Path
    tiny: bool
    budget: float
    started: float = field(default_factory=time.monotonic)
    rows: list = field(default_factory=list)

    def __post_init__(self):
        self.out.mkdir(parents=True, exist_ok=True)
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        self.log = open(self.out / "run.log", "a", buffering=1)
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
        # the rules call `ocbench`: the one of this checkout, with this interpreter
        bin_dir = self.work / "bin"
        bin_dir.mkdir(exist_ok=True)
        wrapper = bin_dir / "ocbench"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ocbench.cli "$@"\n')
        wrapper.chmod(0o755)
        self.env["PATH"] = f"{bin_dir}{os.pathsep}{self.env.get('PATH', '')}"

    def say(self, message: str) -> None:
        line = f"[{now_text()}] {message}"
        print(line, flush=True)
        self.log.write(line + "\n")

    def step_deadline(self, step: str) -> float:
        """The end of ``step``'s share, counted from the start: time an earlier step left is its."""
        shares = list(SHARES)
        return self.started + self.budget * sum(SHARES[s] for s in shares[:shares.index(step) + 1])

    def record(self, step: str, part: str, started_at: str, seconds: float, budget: float, status: str,
               note: str = "") -> None:
        self.rows.append([step, part, started_at, f"{seconds:.1f}", f"{budget:.0f}", status, note])
        with open(self.out / "steps.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["step", "part", "started", "seconds", "budget_s", "status", "note"])
            writer.writerows(self.rows)

    def start(self, label: str, cmd: list[str], stdout: Path | None = None) -> tuple:
        """Start ``cmd`` in its own process group, its output in its own log (appended to run.log when it
        ends, so that commands side by side do not interleave)."""
        log_path = self.work / "logs" / f"{slug(label)}.log"
        handle = open(stdout or log_path, "w")
        header = f"\n===== {label} [{now_text()}]: {' '.join(map(str, cmd))}\n"
        proc = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=self.env, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)
        return label, header, proc, handle, stdout or log_path, time.monotonic()

    def finish(self, started: list[tuple], deadline: float) -> list[Outcome]:
        """Wait for the started commands until ``deadline``; stop those still running then."""
        outcomes = []
        for label, header, proc, handle, path, began in started:
            timed_out = False
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
                stop(proc)
            handle.close()
            seconds = time.monotonic() - began
            self.log.write(header + Path(path).read_text(errors="replace"))
            self.log.write(f"===== {label}: {'stopped at its time limit' if timed_out else f'exit {proc.returncode}'}"
                           f" after {seconds:.1f} s\n")
            outcomes.append(Outcome(label, proc.returncode, seconds, timed_out))
        return outcomes

    def call(self, label: str, cmd: list[str], deadline: float, stdout: Path | None = None) -> Outcome:
        return self.finish([self.start(label, cmd, stdout)], deadline)[0]

    def snakemake(self, config_path: Path, targets=()) -> list[str]:
        # Several workflows run side by side in this folder (the Deep SAD variants, after their data
        # is prepared), each with its own outdir: none writes what another reads, so no lock.
        # PuLP, the ILP scheduler's solver, is not carried to the GPU machine: the greedy scheduler.
        return [sys.executable, "-m", "snakemake", "--snakefile", ROOT / "Snakefile", "--directory", ROOT,
                "--profile", "workflow/profiles/default", "--configfile", config_path,
                "--cores", str(os.cpu_count() or 1), "--resources", f"gpu={GPU_SLOTS}",
                "--scheduler", "greedy", "--nolock", *targets]


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the command's process group (Snakemake and its jobs), SIGKILL after a grace period."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def runs_summary(outdir: Path) -> str:
    """One line from a workflow's runs.csv: runs, failed runs, mean AUROC per method."""
    path = outdir / "tables" / "runs.csv"
    if not path.is_file():
        return "no runs.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    by_method: dict[str, list[float]] = {}
    for row in rows:
        if row.get("status") == "ok" and row.get("auroc"):
            by_method.setdefault(row["method"], []).append(float(row["auroc"]))
    failed = sum(row.get("status") == "failed" for row in rows)
    means = ", ".join(f"{m} {100 * sum(v) / len(v):.1f} (n={len(v)})" for m, v in by_method.items())
    return f"{len(rows)} runs, {failed} failed; mean AUROC: {means}"


# --------------------------------------------------------------------------- the steps

def check_device(run: Run) -> str | None:
    """The GPU's name, or None on the CPU (--tiny); stops the run without CUDA otherwise."""
    code = ("import json, torch; ok = torch.cuda.is_available(); print(json.dumps({'torch': torch.__version__, "
            "'cuda': torch.version.cuda, 'available': ok, 'devices': torch.cuda.device_count() if ok else 0, "
            "'name': torch.cuda.get_device_name(0) if ok else None}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=run.env, capture_output=True, text=True)
    run.log.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"the GPU run: torch does not import: {result.stderr.strip().splitlines()[-1:]}")
    info = json.loads(result.stdout.strip().splitlines()[-1])
    run.say(f"torch {info['torch']} (CUDA {info['cuda']}): "
            + (f"{info['devices']} GPU(s), {info['name']}" if info["available"] else "no GPU"))
    if run.tiny:
        return None
    if not info["available"]:
        raise SystemExit("the GPU run: torch sees no GPU here; run it with --tiny to try it on a CPU")
    return info["name"]


def sample_gpu(run: Run):
    """nvidia-smi's samples every SAMPLE_SECONDS into gpu_utilization.csv, until stopped."""
    path = run.out / "gpu_utilization.csv"
    if shutil.which("nvidia-smi") is None:
        path.write_text("# nvidia-smi is not on this machine: no GPU to sample\n")
        return None
    handle = open(path, "w")
    return subprocess.Popen(["nvidia-smi", "--query-gpu=timestamp,index,utilization.gpu,memory.used,memory.total",
                             "--format=csv", "-l", str(SAMPLE_SECONDS)], stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def step_calibration(run: Run, configs: dict[str, Path], gpu: str | None) -> None:
    device = "cpu" if run.tiny else "cuda"
    deadline = run.step_deadline("calibration")
    calibration = run.work / "data" / "calibration"
    for name, path in configs.items():
        began, at = time.monotonic(), now_text()
        command = [sys.executable, "-m", "ocbench.cli", "estimate", path, "--device", device, "--jobs", "5"]
        outcome = run.call(f"estimate {name}", command, deadline)
        run.record("calibration", f"estimate {name}", at, outcome.seconds, deadline - began, outcome.status)
        run.say(f"calibration: estimate of {name} {outcome.status} in {outcome.seconds:.0f} s")
        if outcome.timed_out:
            break
    began, at = time.monotonic(), now_text()
    seconds = min(deadline - began, TINY_PRESET_SECONDS if run.tiny else math.inf)
    if seconds > 5:
        outcome = run.call("calibrate the presets' device timings",
                           [sys.executable, __file__, "--calibrate-presets", run.work / "data", "--device", device,
                            "--until", f"{time.time() + seconds - 3:.0f}"], deadline)
        run.record("calibration", "presets' device timings", at, outcome.seconds, deadline - began, outcome.status)
        run.say(f"calibration: the presets' {device} timings {outcome.status} in {outcome.seconds:.0f} s")
    copy_calibration(run, calibration, gpu)


def copy_calibration(run: Run, calibration: Path, gpu: str | None) -> None:
    if gpu is None:
        pairs = [(calibration / "cpu.json", run.out / "calibration-cpu.json")]
    else:
        pairs = [(calibration / "cuda.json", run.out / f"cuda-{slug(gpu)}.json"),
                 (calibration / "cpu.json", run.out / "host-cpu.json")]
    for source, target in pairs:
        if source.is_file():
            shutil.copyfile(source, target)


def calibrate_presets(datadir: Path, device: str, until: float) -> int:
    """Time the ``device`` timings that the presets' estimates need and ``datadir``'s calibration lacks,
    one after the other until the wall-clock time ``until`` (the host's timings are left to the
    machine that estimates: the shallow methods' laws alone take half an hour)."""
    sys.path.insert(0, str(ROOT / "src"))
    from ocbench.config import load_and_validate, read_config_file
    from ocbench.cost import with_device
    from ocbench.cost.calibration import (
        Calibration, Needs, calibrate, cpu_calibration_path, cuda_calibration_path)
    from ocbench.cost.model import CostModel

    from ocbench.detectors import METHODS
    from ocbench.errors import OcbenchError

    specs, sizes = {}, {}
    for path in sorted(EXPERIMENTS.glob("*.yaml")):
        config = read_config_file(path)
        for entry in config["datasets"].values():
            entry.pop("mirror", None)  # a mirror absent here: the estimate reads no data
        # a method whose solver is absent here (SSAD's cvxopt) is a CPU method: no device timing of its own
        config["methods"] = [m for m in config["methods"] if importable(METHODS[m])]
        try:
            config = with_device(load_and_validate(config), device)
        except OcbenchError as err:
            print(f"{path.name} left out: {err}", flush=True)
            continue
        config["datadir"] = str(datadir)
        needs = Needs()
        CostModel(config, needs, auto_device=device).workflow_costs()
        specs.update({k: s for k, s in needs.specs.items() if s.get("device") == device})
        sizes.update(needs.sizes)
    files = [cpu_calibration_path(config)] if device == "cpu" else [cuda_calibration_path(config),
                                                                      cpu_calibration_path(config)]
    calibration = Calibration(files)
    missing = calibration.missing(list(specs.values()), sizes)
    print(f"{len(specs)} {device} timings for the presets, {len(missing)} to time", flush=True)
    for done, spec in enumerate(missing):
        if time.time() > until:
            print(f"stopped at the step's time: {len(missing) - done} timings left", flush=True)
            return 0
        calibrate(calibration, [spec], sizes)
        print(f"timed {json.dumps(spec, sort_keys=True)}", flush=True)
    print("every preset's device timing is calibrated", flush=True)
    return 0


def importable(spec) -> bool:
    try:
        spec.detector
    except ImportError:
        return False
    return True


def step_stacked(run: Run) -> None:
    deadline = run.step_deadline("stacked")
    options = ["--device", "cpu", "--k", "1,2", "--n", "200", "--epochs", "1"] if run.tiny else \
        ["--device", "cuda", "--k", "1,5,10,20"]
    began, at = time.monotonic(), now_text()
    outcome = run.call("stacked", [sys.executable, ROOT / "benchmarks" / "stacked.py", *options], deadline,
                       stdout=run.out / "stacked.txt")
    run.record("stacked", " ".join(options), at, outcome.seconds, deadline - began, outcome.status)
    run.say(f"stacked: {outcome.status} in {outcome.seconds:.0f} s")


def run_chunks(run: Run, step: str, chunks: list[tuple[str, int, dict[str, Path]]]) -> None:
    """Run each chunk (label, new batch jobs per workflow, {workflow: config file}) while the next one
    fits in the step's time at the pace of the last; the workflows of a chunk run side by side."""
    deadline = run.step_deadline(step)
    last_seconds, last_batches = None, 0
    for label, batches, configs in chunks:
        left = deadline - time.monotonic()
        if not chunk_fits(last_seconds, last_batches, batches, left):
            note = f"{batches} new batch jobs at {last_seconds / max(last_batches, 1):.0f} s each" \
                if last_seconds else f"a first chunk needs {MIN_CHUNK_SECONDS} s"
            run.record(step, label, now_text(), 0, left, "skipped", f"does not fit: {note}")
            run.say(f"{step}: {label} skipped, it does not fit in the {left:.0f} s left ({note})")
            break
        at = now_text()
        started = [run.start(f"{step} {label} {name}", run.snakemake(path)) for name, path in configs.items()]
        outcomes = run.finish(started, deadline)
        for (name, path), outcome in zip(configs.items(), outcomes):
            outdir = Path(yaml.safe_load(path.read_text())["outdir"])
            summary = runs_summary(outdir)
            run.record(step, f"{label} {name}", at, outcome.seconds, left, outcome.status, summary)
            run.say(f"{step}: {label} {name} {outcome.status} in {outcome.seconds:.0f} s; {summary}")
        if any(o.status != "ok" for o in outcomes):
            break
        last_seconds, last_batches = max(o.seconds for o in outcomes), batches


def step_oneclass(run: Run, mirror: Path) -> None:
    seed_chunks = [[1]] if run.tiny else ONECLASS_CHUNKS
    chunks, previous = [], None
    for seeds in seed_chunks:
        path = write_config(oneclass_config(seeds, run.work, mirror, run.tiny),
                            run.work / "configs" / f"oneclass_seeds{len(seeds)}.yaml")
        chunks.append((f"seeds {seeds[0]}-{seeds[-1]}", new_batches(previous, seeds), {"oneclass": path}))
        previous = seeds
    run_chunks(run, "oneclass", chunks)


def step_deep_sad(run: Run, mirror: Path) -> None:
    ssad = cvxopt_present(run)
    if not ssad:
        run.say("deep_sad: cvxopt is not installed here (not carried: 21 MB), so hybrid SSAD is left out")
    plan = [([1], [1])] if run.tiny else DEEP_SAD_CHUNKS
    chunks, previous = [], None
    for index, (seeds, known) in enumerate(plan):
        configs = {variant: write_config(deep_sad_config(variant, seeds, known, run.work, mirror, run.tiny, ssad),
                                         run.work / "configs" / f"deep_sad_{variant}_{index + 1}.yaml")
                   for variant in VARIANTS}
        pairs = [(s, k) for s in seeds for k in known]
        chunks.append((f"seeds {seeds[0]}-{seeds[-1]} known {known[0]}-{known[-1]}", new_batches(previous, pairs),
                       configs))
        previous = pairs
    # the data once, before the two workflows run side by side
    first = chunks[0][2]["transfer"]
    prepared = Path(yaml.safe_load(first.read_text())["datadir"]) / "prepared" / "fmnist.npz"
    began, at = time.monotonic(), now_text()
    outcome = run.call("deep_sad data", run.snakemake(first, [prepared]), run.step_deadline("deep_sad"))
    run.record("deep_sad", "prepare the data", at, outcome.seconds, run.step_deadline("deep_sad") - began,
               outcome.status)
    if outcome.status == "ok":
        run_chunks(run, "deep_sad", chunks)


def cvxopt_present(run: Run) -> bool:
    return subprocess.run([sys.executable, "-c", "import cvxopt"], env=run.env, capture_output=True).returncode == 0


# --------------------------------------------------------------------------- packing

def pack_workflow(run: Run, name: str, outdirs: list[Path], configs: list[Path]) -> Path:
    """A workflow's tables, published comparison, summary, configuration, logs and chunk configs, as
    OUTDIR/<name>.tar.gz; without the logs where that is over the size limit."""
    target = run.out / f"{name}.tar.gz"
    for with_logs in (True, False):
        with tarfile.open(target, "w:gz") as tar:
            for outdir in outdirs:
                for part in ("tables", "published", "summary.md", "configuration.yaml", "batches",
                             *(["logs"] if with_logs else [])):
                    if (outdir / part).exists():
                        tar.add(outdir / part, arcname=f"{name}/{outdir.name}/{part}")
            for config in configs:
                tar.add(config, arcname=f"{name}/configs/{config.name}")
        if target.stat().st_size <= MAX_BYTES:
            break
    return target


def check_outdir(run: Run) -> None:
    """At most MAX_FILES files of at most MAX_BYTES: run.log keeps its end if it is longer."""
    log = run.out / "run.log"
    if log.stat().st_size > MAX_BYTES:
        tail = log.read_bytes()[-(MAX_BYTES - 200):]
        log.write_bytes(b"[the log's beginning is cut: over 16 MiB]\n" + tail)
    files = sorted(p for p in run.out.iterdir() if p.is_file())
    sizes = ", ".join(f"{p.name} ({p.stat().st_size / 1e6:.2f} MB)" for p in files)
    print(f"[{now_text()}] {len(files)} files in {run.out}: {sizes}", flush=True)
    if len(files) > MAX_FILES or any(p.stat().st_size > MAX_BYTES for p in files):
        print(f"the GPU run: {run.out} holds more than {MAX_FILES} files or a file over 16 MiB", file=sys.stderr)


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, nargs="?", help="the folder of the files to bring back (at most 8)")
    parser.add_argument("--tiny", action="store_true", help="2 classes x 1 seed x 1 epoch and the like, on the CPU")
    parser.add_argument("--budget", type=float, help=f"seconds for the four steps (default {DEFAULT_BUDGET}; "
                                                     f"{TINY_BUDGET} with --tiny)")
    parser.add_argument("--work", type=Path, default=ROOT / "results" / "gpu_run",
                        help="the workflows' data and results (default results/gpu_run; a rerun resumes there)")
    parser.add_argument("--mirror", type=Path, help="Fashion-MNIST's four .gz files (default datasets/fashion-mnist "
                                                    "of this checkout, else /usr/share/datasets/fashion-mnist)")
    parser.add_argument("--steps", default=",".join(SHARES), help="the steps to run (default all)")
    parser.add_argument("--calibrate-presets", type=Path, metavar="DATADIR", help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    parser.add_argument("--until", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.calibrate_presets:
        return calibrate_presets(args.calibrate_presets, args.device, args.until)
    if args.outdir is None:
        parser.error("the following arguments are required: outdir")

    mirror = args.mirror or next((p for p in (ROOT / "datasets" / "fashion-mnist",
                                              Path("/usr/share/datasets/fashion-mnist")) if p.is_dir()), None)
    if mirror is None:
        raise SystemExit("the GPU run: no Fashion-MNIST folder (make gpu-data, or --mirror FOLDER)")
    budget = args.budget or (TINY_BUDGET if args.tiny else DEFAULT_BUDGET)
    run = Run(args.outdir.resolve(), args.work.resolve(), args.tiny, budget)
    steps = args.steps.split(",")
    run.say(f"the GPU run{' (tiny, on the CPU)' if args.tiny else ''}: {', '.join(steps)} in {budget:.0f} s; "
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}; "
            f"data {mirror}; work {run.work}")
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True)
    run.say(f"code: {commit.stdout.strip() or 'no git repository here'}")
    gpu = check_device(run)
    sampler = sample_gpu(run)
    configs = {
        "oneclass": write_config(oneclass_config(ONECLASS_CHUNKS[-1] if not run.tiny else [1], run.work, mirror,
                                                 run.tiny), run.work / "configs" / "oneclass_estimate.yaml"),
        **{f"deep_sad {variant}": write_config(
            deep_sad_config(variant, *(([1], [1]) if run.tiny else DEEP_SAD_CHUNKS[-1]), run.work, mirror, run.tiny,
                            cvxopt_present(run)), run.work / "configs" / f"deep_sad_{variant}_estimate.yaml")
           for variant in VARIANTS}}
    try:
        if "calibration" in steps:
            step_calibration(run, configs, gpu)
        if "stacked" in steps:
            step_stacked(run)
        if "oneclass" in steps:
            step_oneclass(run, mirror)
            pack_workflow(run, "oneclass_fmnist", [run.work / "oneclass_fmnist"],
                          sorted((run.work / "configs").glob("oneclass_*.yaml")))
        if "deep_sad" in steps:
            step_deep_sad(run, mirror)
            pack_workflow(run, "deep_sad_fmnist", [run.work / "deep_sad_fmnist" / v for v in VARIANTS],
                          sorted((run.work / "configs").glob("deep_sad_*.yaml")))
    finally:
        if sampler is not None:
            stop(sampler)
        copy_calibration(run, run.work / "data" / "calibration", gpu)
        run.say(f"the GPU run ends after {time.monotonic() - run.started:.0f} s, load {os.getloadavg()[0]:.2f}")
        run.log.close()
        check_outdir(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
