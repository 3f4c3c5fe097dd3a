"""The calibration: what one batch, one sample, one process start... costs on this machine, timed once.

A calibration file holds one entry per *spec* (``model.py``: what was timed, as a small
dict): its ``cpu`` and ``wall`` seconds, each a number or a fitted law ``{"form":
"power"|"linear", "a", "b"}`` with the probes it was fitted to, and the machine it was
measured on. The CPU seconds (this process's, or a new process's) are what one
dedicated core takes, also on a shared and loaded machine, whose wall clock also counts
the waits for a core: the estimate predicts CPU seconds (``CLOCKS``), and wall seconds
for the work of a GPU, whose time is not the CPU's. ``ocbench estimate`` times the specs
a config asks for that its file lacks, on one thread, as the workflow's jobs run
(``threads: 1``), and adds them to the file; later estimates read them back. CUDA specs can only be timed where torch sees a GPU; elsewhere a file
recorded on that GPU model stands in (``CALIBRATIONS``, or ``--calibration FILE``).

The timings themselves are in ``probes.py``.
"""
from __future__ import annotations

import datetime as _datetime
import json
import logging
import os
import platform
import time
from pathlib import Path


from ..errors import OcbenchError
from ..files import write_json
from .probes import POWER_LAWS, PROBE_SECONDS, measure, quiet, single_thread

log = logging.getLogger("ocbench.cost")

CALIBRATION_FORMAT = 1
#: the CUDA calibrations that ship with ocbench, one per GPU model
CALIBRATIONS = Path(__file__).with_name("calibrations")


def spec_key(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True)


class MissingCalibration(OcbenchError):
    """A spec the calibration has no entry for."""

    def __init__(self, specs: list[dict], files: list[Path]):
        self.specs = specs
        existing = [str(f) for f in files if f.is_file()]
        where = (" and ".join(existing) + f" lack{'s' if len(existing) == 1 else ''}" if existing
                 else f"there is no calibration file ({' or '.join(map(str, files))}) with")
        super().__init__(f"{where} the timing {spec_key(specs[0])}")


class Needs:
    """A ``Costs`` that answers 1 to everything and remembers what it was asked: the specs a config
    needs, and the largest size each law is asked at (``sizes``)."""

    def __init__(self):
        self.specs: dict[str, dict] = {}
        self.sizes: dict[str, int] = {}

    def seconds(self, spec: dict) -> float:
        self.specs.setdefault(spec_key(spec), spec)
        return 1.0

    def law(self, spec: dict, n: float) -> float:
        key = spec_key(spec)
        self.sizes[key] = max(self.sizes.get(key, 0), int(n))
        return self.seconds(spec)


#: what a timing is read as: the CPU seconds of one core (the default), or the wall seconds measured
CLOCKS = ("cpu", "wall")


class Calibration:
    """The entries of calibration files, looked up in order (a CUDA file first, then this machine's CPU one),
    read as ``clock`` seconds (CUDA timings always as wall seconds)."""

    def __init__(self, files: list[Path], clock: str = "cpu"):
        if clock not in CLOCKS:
            raise OcbenchError(f"clock {clock!r} is not one of {', '.join(CLOCKS)}")
        self.files = [Path(f) for f in files]
        self.clock = clock
        self.data = [self._read(f) for f in self.files]

    @staticmethod
    def _read(path: Path) -> dict:
        if not path.is_file():
            return {"format": CALIBRATION_FORMAT, "machine": {}, "entries": {}}
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise OcbenchError(f"calibration file {path} is unreadable ({err}); delete it to calibrate again") from None
        if data.get("format") != CALIBRATION_FORMAT:
            raise OcbenchError(f"calibration file {path} has format {data.get('format')!r}, not {CALIBRATION_FORMAT}; "
                               "delete it to calibrate again")
        return data

    def entry(self, spec: dict):
        key = spec_key(spec)
        clock = "wall" if spec.get("device") == "cuda" else self.clock
        for data in self.data:
            if key in data["entries"]:
                return data["entries"][key][clock]
        raise MissingCalibration([spec], self.files)

    def seconds(self, spec: dict) -> float:
        return float(self.entry(spec))

    def law(self, spec: dict, n: float) -> float:
        return evaluate_law(self.entry(spec), n)

    def missing(self, specs, sizes: dict | None = None) -> list[dict]:
        """The specs without an entry, and the laws whose probes stopped short of the size now
        asked for although they were still cheap (a larger config extends them)."""
        sizes = sizes or {}
        missing = []
        for spec in specs:
            key = spec_key(spec)
            found = next((data["entries"][key] for data in self.data if key in data["entries"]), None)
            probes = (found or {}).get("probes") or []
            short = probes and spec["kind"] in POWER_LAWS and probes[-1][0] < sizes.get(key, 0) \
                and probes[-1][2] < PROBE_SECONDS
            if found is None or short:
                missing.append(spec)
        return missing

    def machines(self) -> list[str]:
        """One line per file: where and when it was measured."""
        lines = []
        for path, data in zip(self.files, self.data):
            m = data.get("machine") or {}
            if data["entries"]:
                lines.append(f"{path}: {m.get('processor', '?')}{', ' + m['gpu'] if m.get('gpu') else ''}, "
                             f"{m.get('threads', '?')} thread(s), measured {m.get('date', '?')} at load "
                             f"{m.get('load', '?')}")
        return lines

    def add(self, index: int, spec: dict, value: dict, probes=None) -> None:
        """Record a timing (``{"cpu": ..., "wall": ...}``) in the ``index``-th file, written at once (an
        interrupted calibration keeps it)."""
        data = self.data[index]
        data["machine"] = machine_description(spec.get("device", "cpu")) | {"date": _today()}
        data["entries"][spec_key(spec)] = {**value, **({"probes": probes} if probes else {})}
        write_json(self.files[index], data)


def evaluate_law(value, n: float) -> float:
    """A timing at size ``n``: a number, ``a n^b`` (power), ``a + b n`` (linear), or ``capped``: the law
    ``below`` up to the cap and the line ``above`` past it (the cap's value where there is none)."""
    if not isinstance(value, dict):
        return float(value)
    if value["form"] == "capped":
        if n <= value["cap"] or value.get("above") is None:
            return evaluate_law(value["below"], min(n, value["cap"]))
        return evaluate_law(value["above"], n)
    if value["form"] == "power":
        return float(value["a"]) * float(n) ** float(value["b"])
    return float(value["a"]) + float(value["b"]) * float(n)


def _today() -> str:
    return _datetime.datetime.now().strftime("%Y-%m-%d %H:%M")


def machine_description(device: str) -> dict:
    gpu = None
    if device == "cuda":
        import torch
        gpu = torch.cuda.get_device_name(0)
    return {"processor": _processor(), "threads": 1, "gpu": gpu, "load": round(os.getloadavg()[0], 2),
            "python": platform.python_version()}


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --------------------------------------------------------------------------- which files

def cpu_calibration_path(config: dict) -> Path:
    """This machine's (or cluster's, on a shared file system) CPU calibration: under the config's ``datadir``."""
    return Path(config["datadir"]) / "calibration" / "cpu.json"


def cuda_calibration_path(config: dict) -> Path:
    return Path(config["datadir"]) / "calibration" / "cuda.json"


def calibration_files(config: dict, device: str, given=None) -> list[Path]:
    """The files an estimate on ``device`` reads, in order; for CUDA without a GPU here, one line if there is none."""
    cpu = cpu_calibration_path(config)
    if device != "cuda":
        return [Path(given)] if given else [cpu]
    if given:
        return [Path(given), cpu]
    local = cuda_calibration_path(config)
    if local.is_file() or cuda_present():
        return [local, cpu]
    shipped = sorted(CALIBRATIONS.glob("cuda-*.json"))
    if len(shipped) == 1:
        return [shipped[0], cpu]
    if shipped:
        raise OcbenchError(f"several CUDA calibrations ship with ocbench ({', '.join(p.name for p in shipped)}); "
                           "choose the GPU model with --calibration FILE")
    raise OcbenchError(f"no CUDA calibration: torch sees no GPU here, and neither {local} nor a file in {CALIBRATIONS} "
                       "exists; run `ocbench estimate CONFIG --device cuda` once on a machine with the GPU, "
                       "or pass --calibration FILE")


def cuda_present() -> bool:
    from ..config import cuda_missing_reason
    return cuda_missing_reason() is None


# --------------------------------------------------------------------------- measuring

def calibrate(calibration: Calibration, specs: list[dict], sizes: dict | None = None) -> None:
    """Time every spec of ``specs`` that ``calibration`` lacks; CUDA specs only where a GPU is present.

    ``sizes``: the largest training-set size each law is needed at (``Needs.sizes``): its
    probes go up to it while they stay cheap."""
    sizes = sizes or {}
    missing = calibration.missing(specs, sizes)
    if not missing:
        return
    cuda = [s for s in missing if s.get("device") == "cuda"]
    if cuda and not cuda_present():
        raise MissingCalibration(cuda, calibration.files[:1])
    log.info("calibrating %d timings on this machine (one thread)", len(missing))
    started = time.perf_counter()
    with single_thread(), quiet("ocbench.training", "ocbench.detectors", "ocbench.jobs"):
        for spec in missing:
            index = 0 if spec.get("device") == "cuda" or len(calibration.files) == 1 else len(calibration.files) - 1
            value, probes = measure(spec, sizes.get(spec_key(spec), 0))
            calibration.add(index, spec, value, probes)
            log.info("calibrated %s: %s", spec_key(spec), value)
    log.info("calibration took %.1fs", time.perf_counter() - started)
