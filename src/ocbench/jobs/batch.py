"""The workflow's training job: every run of one (dataset, setting, seed) on one device, in one process.

``run_batches`` runs a batch job's split plans in turn (docs/architecture.md,
"Batches"); each split is ``run_batch``: the split loaded and preprocessed once, its
shared autoencoder trained once (or reused), then each run fitted and scored into its
own directory. Runs whose request is unchanged are skipped; a run that fails leaves a
``failed.json`` beside its previous good files and the others go on.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..data import load_run_data
from ..detectors import method_spec
from ..files import write_json
from ..paths import FAILED_RECORD, METRICS
from .failures import failure_reason, remove_stale_stages, write_failure
from .measure import reset_peak_memory
from .method_run import run_method
from .plan import BatchPlan, RunPlan, SplitPlan
from .pretraining import ensure_autoencoder
from .stacks import fit_stacks, stacking
from .uptodate import runs_to_fit

log = logging.getLogger("ocbench.jobs")


def run_batches(job: BatchPlan, manifest=None) -> dict:
    """Run the split plans of one batch job in turn; return (and write to ``manifest``) its manifest.

    Each split is ``run_batch`` (its unchanged runs skipped, a failing run recorded in
    its own ``failed.json`` while the others go on), all in this process, so the job
    pays its imports once for all its splits. Where ``job.stack`` asks for it
    (``stacks.stacking``), the deep runs of equal settings and training-set sizes across
    the splits first train as stacks (``stacks.fit_stacks``), then every run is scored
    and recorded as usual. The manifest lists every run of every split with its normal
    classes and status.
    """
    plans = list(job.splits)
    prefit, data = {}, {}
    if stacking(job.stack, plans[0].device) and len(plans) > 1:
        prefit, data = fit_stacks(plans)
    runs = []
    for i, plan in enumerate(plans):
        done = run_batch(plan, prefit=prefit, data=data.get(i))
        runs += [dict(run, normal_classes=done["normal_classes"]) for run in done["runs"]]
    batch = job.batch
    result = {"dataset": batch.dataset, "setting": batch.setting, "seed": batch.seed, "device": batch.device,
              "runs": runs}
    if manifest is not None:
        write_json(manifest, result)
    return result


def run_batch(plan: SplitPlan, manifest=None, *, prefit: dict | None = None, data=None) -> dict:
    """Fit and score the runs of one split on one device in this process; return its manifest.

    A run whose ``params.json`` holds the same request (``uptodate.run_request``) and a
    good result is skipped; the others are fitted, each into its own run directory. The
    split is loaded and preprocessed once, and the shared autoencoder trained once (or
    reused), only when some run needs it. ``prefit`` maps run directories to detectors
    fitted in a stack (``stacks.fit_stacks``), ``data`` is the split's data when already
    loaded. The manifest (each run directory and its status) is written to ``manifest``
    when given.
    """
    every, todo = runs_to_fit(plan)
    log.info("batch %s/%s/%s seed %s on %s: %d runs, %d to fit", plan.dataset, plan.setting,
             list(plan.normal_classes), plan.seed, plan.device, len(every), len(todo))
    failures = _fit_runs(plan, todo, prefit or {}, data) if todo else {}
    runs = []
    for run, _ in every:
        reason = failures.get(run.run_dir)
        runs.append({"method": run.method, "run_dir": run.run_dir, "status": "failed" if reason else "ok",
                     "reason": reason, "record": str(Path(run.run_dir) / (FAILED_RECORD if reason else METRICS))})
    result = {"dataset": plan.dataset, "setting": plan.setting, "normal_classes": list(plan.normal_classes),
              "seed": plan.seed, "device": plan.device, "runs": runs}
    if failures:
        log.warning("%d of %d runs failed; their records: %s", len(failures), len(every),
                    ", ".join(str(Path(d) / FAILED_RECORD) for d in failures))
    if manifest is not None:
        write_json(manifest, result)
    return result


def _fit_runs(plan: SplitPlan, todo: list[tuple[RunPlan, dict]], prefit: dict, data) -> dict[str, str]:
    """Fit the runs of ``todo``; return the reason of each failed run by run directory."""
    failures: dict[str, str] = {}

    def fail(run: RunPlan, request: dict, reason: str) -> None:
        failures[run.run_dir] = reason
        log.error("%s failed: %s", run.run_dir, reason)
        write_failure(plan, run, request, reason)

    try:
        # Import every detector before the first clock starts: a run's train_time_s counts training only.
        for run, _ in todo:
            method_spec(run.method).detector
        if data is None:
            data = load_run_data(plan.prepared, plan.split, plan.preprocessing)
    except Exception as err:  # noqa: BLE001 - every run of the batch is recorded as failed
        log.exception("batch inputs failed")
        for run, request in todo:
            fail(run, request, f"loading the split failed: {failure_reason(err)}")
        return failures

    pretrain, pretrain_error = None, None
    if plan.autoencoder is not None and any(run.uses_autoencoder for run, _ in todo):
        try:
            reset_peak_memory()
            pretrain = ensure_autoencoder(plan, data, next(r["autoencoder"] for run, r in todo
                                                           if run.uses_autoencoder))
        except Exception as err:  # noqa: BLE001
            log.exception("autoencoder pretraining failed")
            pretrain_error = f"pretraining the shared autoencoder failed: {failure_reason(err)}"

    for run, request in todo:
        remove_stale_stages(Path(run.run_dir))
        if run.uses_autoencoder and pretrain_error:
            fail(run, request, pretrain_error)
            continue
        try:
            reset_peak_memory()
            run_method(plan, run, data=data, request=request, pretrain=pretrain if run.uses_autoencoder else None,
                       fitted=prefit.get(run.run_dir))
        except Exception as err:  # noqa: BLE001 - one run's failure must not stop the others
            log.exception("%s on the batch's split failed", run.method)
            fail(run, request, failure_reason(err))
    return failures
