"""Snakemake's lock in a working directory: remove it when the run that left it is gone.

Snakemake locks a working directory (`.snakemake/locks/`) while it runs and removes the
lock when it ends. A run killed with `kill -9` (or by a crash, or a lost login) leaves
the lock behind, and the next run is refused with a `LockException` until
`snakemake --unlock`. A lock is stale when no Snakemake process works in the directory:
Snakemake changes into its working directory, so a live run is a process of this
machine whose command is Snakemake's and whose current directory is that one. The lock
of a live run is never removed. (The workflow's main process runs where it was started,
also with the SLURM executor, so this machine's processes are the ones to look at.)
"""
from __future__ import annotations

import os
from pathlib import Path

import psutil

from .errors import OcbenchError


def lock_files(workdir: str | Path) -> list[Path]:
    locks = Path(workdir) / ".snakemake" / "locks"
    return sorted(locks.glob("*.lock")) if locks.is_dir() else []


def _is_snakemake(cmdline: list[str]) -> bool:
    # `/venv/bin/snakemake …`, `python -m snakemake …`, `python /venv/bin/snakemake …`
    head = cmdline[:3]
    return any(Path(part).name.startswith("snakemake") for part in head) or "snakemake" in head


def live_runs(workdir: str | Path) -> list[psutil.Process]:
    """The Snakemake processes of this machine working in ``workdir`` (this process and its parents left out)."""
    workdir = Path(workdir).resolve()
    mine = {os.getpid(), *(parent.pid for parent in psutil.Process().parents())}
    live = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        if process.pid in mine:
            continue
        cmdline, cwd = process.info.get("cmdline") or [], process.info.get("cwd")
        if cwd and _is_snakemake(cmdline) and Path(cwd).resolve() == workdir:
            live.append(process)
    return live


def remove_stale_lock(workdir: str | Path = ".") -> list[Path]:
    """Remove ``workdir``'s Snakemake lock if no run holds it; return the files removed.

    Raises OcbenchError, leaving the lock, where a Snakemake process works in ``workdir``.
    """
    files = lock_files(workdir)
    if not files:
        return []
    live = live_runs(workdir)
    if live:
        process = live[0]
        raise OcbenchError(f"a workflow is running in {Path(workdir).resolve()} (process {process.pid}: "
                           f"{' '.join(process.info.get('cmdline') or [])[:120]}); its lock stays: wait for it "
                           "to end, or stop it first")
    for path in files:
        path.unlink(missing_ok=True)
    return files
