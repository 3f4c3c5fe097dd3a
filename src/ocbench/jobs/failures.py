"""A run that fails is recorded, never lost: its one-line reason in ``failed.json``, its last good files kept.

Any error of one run (a non-finite or diverging loss, a solver error, running out of
memory, an unreadable split) becomes that run's ``failed.json`` and the batch goes on
with the other runs; the report shows a dash and the reason.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import OcbenchError
from ..files import one_line, write_json
from ..paths import FAILED_RECORD
from .plan import RunPlan, SplitPlan


def failure_reason(err: BaseException) -> str:
    """A failure's one-line reason; an error not raised by ocbench is named by its type (MemoryError: ...)."""
    return one_line(err) if isinstance(err, OcbenchError) else f"{type(err).__name__}: {one_line(err)}"


def write_failure(plan: SplitPlan, run: RunPlan, request: dict, reason: str) -> None:
    """Record a failed attempt in the run's ``failed.json``; its other files stay as they were."""
    write_json(Path(run.run_dir) / FAILED_RECORD, {
        "status": "failed", "reason": reason, "dataset": plan.dataset, "setting": plan.setting,
        "normal_classes": list(plan.normal_classes), "seed": plan.seed, "method": run.method,
        "device": plan.device, "request": request})


def remove_stale_stages(run_dir: Path) -> None:
    """Staging directories left by a killed job (``io.staged_directory``) of this run."""
    if run_dir.parent.is_dir():
        for stale in run_dir.parent.glob(f".{run_dir.name}.*-*"):
            shutil.rmtree(stale, ignore_errors=True)
