"""The version of the code that computes results, as a short hash of its source.

A run's request (``jobs.uptodate.run_request``) carries it, and the workflow passes it in every
training job's plan: an edit to the modules below changes it, so the next run refits
every run and autoencoder, where Snakemake alone would rerun nothing (its ``code``
trigger sees only a rule's own command). Modules that only read results (``report``),
parse arguments (``cli``) or resolve the config (``config``: what it resolves is in the
plan already) are left out, so an edit to a figure or a message refits nothing. The
plugins a config imports (``ocbench.plugins``) add their source files to the hash.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from .plugins import loaded_sources

PACKAGE = Path(__file__).resolve().parent
#: what decides a result: data and splits, networks, detectors, the training loop, a run
COMPUTING = ("data", "nets", "detectors", "training.py", "jobs", "metrics.py", "io.py", "errors.py")


def code_version() -> str:
    """The version of this installation's computing modules and of the plugins imported so far
    (ocbench.plugins: what they add computes results too)."""
    return _with_plugins(_package_version(), tuple(loaded_sources()))


@lru_cache(maxsize=1)
def _package_version() -> str:
    return source_version(PACKAGE)


@lru_cache(maxsize=8)
def _with_plugins(version: str, plugins: tuple[Path, ...]) -> str:
    if not plugins:
        return version
    digest = hashlib.sha256(version.encode() + b"\0")
    for source in plugins:
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def source_version(package: Path) -> str:
    """sha256 (first 12 hex digits) of the computing modules under ``package``, by relative path."""
    digest = hashlib.sha256()
    for name in COMPUTING:
        path = package / name
        sources = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []
        for source in sources:
            digest.update(source.relative_to(package).as_posix().encode() + b"\0")
            digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
