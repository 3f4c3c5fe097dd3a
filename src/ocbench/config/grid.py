"""The grid of a validated config: its runs, pretrained autoencoders and batch jobs, and each batch's plan."""
from __future__ import annotations

from ..code_version import autoencoder_version, run_version
from ..jobs.plan import AutoencoderPlan, Batch, BatchPlan, Pretrain, Run, RunPlan, SplitPlan
from .names import (
    _methods, dataset_methods, grid_settings, method_devices, needs_autoencoder, normal_name, parse_normal,
    parse_setting_name)
from .resolve import autoencoder_params, method_params, split_params


def runs(config: dict) -> list[Run]:
    """Every run of the validated config, in a stable order."""
    grid = []
    for dataset, ds in config["datasets"].items():
        for setting in ds["settings"]:
            # (method, device) pairs worked out once, not per run: a paper preset has 10^5 runs
            pairs = [(m, d) for m in dataset_methods(config, dataset, setting) for d in method_devices(config, m)]
            for classes in ds["normal_classes"]:
                normal = normal_name(classes)
                for name in grid_settings(config, dataset, setting, classes):
                    for seed in config["seeds"]:
                        grid.extend(Run(dataset, name, normal, seed, method, device) for method, device in pairs)
    return grid


def pretrain_for(config: dict, run: Run) -> Pretrain | None:
    """The autoencoder a run reads, or None."""
    if not needs_autoencoder(config, run.method):
        return None
    net = config["datasets"][run.dataset]["net"]
    return Pretrain(run.dataset, run.setting, run.normal, run.seed, net, run.device)


def pretrain_jobs(config: dict) -> list[Pretrain]:
    return sorted({p for p in map(lambda r: pretrain_for(config, r), runs(config)) if p is not None})


def dataset_settings(config: dict) -> list[tuple[str, str]]:
    """The (dataset, grid setting) pairs of the grid: one LaTeX table and one ROC figure each.

    An expanding setting gives one pair per known outlier class, in class order.
    """
    pairs = []
    for dataset, ds in config["datasets"].items():
        for setting in ds["settings"]:
            names = {name for classes in ds["normal_classes"]
                     for name in grid_settings(config, dataset, setting, classes)}
            pairs += [(dataset, name) for name in sorted(names, key=lambda n: parse_setting_name(n)[1] or 0)]
    return pairs


def batch_of(run: Run) -> Batch:
    """The batch a run belongs to: the one place that decides which runs share a job
    (a later grouping, e.g. by method across seeds and classes on CUDA, plugs in here)."""
    return Batch(run.dataset, run.setting, run.seed, run.device)


def group_runs(grid: list[Run]) -> dict[Batch, list[Run]]:
    """The runs of each batch; batches and their runs keep the order of ``grid``."""
    groups: dict[Batch, list[Run]] = {}
    for run in grid:
        groups.setdefault(batch_of(run), []).append(run)
    return groups


def batches_reading_their_splits_alone(batches: dict[Batch, list[Run]]) -> set[Batch]:
    """The batches none of whose splits another batch reads: every method of the split on
    one device (a grid on the CPU only, or on CUDA only with no shallow method, which runs
    in the cpu batch). On SLURM such a batch makes its splits in its own job (docs/cluster.md)."""
    readers: dict[tuple, set[Batch]] = {}
    for batch, batch_runs in batches.items():
        for run in batch_runs:
            readers.setdefault(_split_key(run), set()).add(batch)
    return {batch for batch, batch_runs in batches.items()
            if all(readers[_split_key(run)] == {batch} for run in batch_runs)}


def _split_key(run: Run) -> tuple:
    """What names a run's split file (paths.SPLIT_KEY): the runs of every method and device share it."""
    return run.dataset, run.setting, run.normal, run.seed


def split_runs(batch_runs: list[Run]) -> list[list[Run]]:
    """The runs of a batch grouped by split (and device), in the batch's order."""
    splits: dict[tuple, list[Run]] = {}
    for run in batch_runs:
        splits.setdefault((run.dataset, run.setting, run.normal, run.seed, run.device), []).append(run)
    return list(splits.values())


def batch_job_plan(config: dict, batch_runs: list[Run], *, prepared: str, split_of, run_dir,
                   autoencoder_path) -> BatchPlan:
    """A batch job's plan: the plan of each of its splits (``batch_plan``), in order, and the stack mode.

    ``split_of(run)`` gives the path of a run's split file."""
    return BatchPlan(tuple(batch_plan(config, group, prepared=prepared, split=split_of(group[0]), run_dir=run_dir,
                                      autoencoder_path=autoencoder_path)
                           for group in split_runs(batch_runs)),
                     stack=config["training"]["stack"])


def batch_plan(config: dict, split_group: list[Run], *, prepared: str, split: str,
               run_dir, autoencoder_path) -> SplitPlan:
    """Everything one split of a batch needs, resolved: the split, the autoencoder and
    each run's parameters. ``split_group`` holds runs of one split on one device.

    ``run_dir(run)`` and ``autoencoder_path(pretrain)`` give the paths of the workflow's
    layout. A change of any value reruns the batch job (through its plan file), which
    then refits only the runs whose own resolved parameters changed (``jobs.batch``).
    """
    methods = _methods()
    first = split_group[0]
    ds = config["datasets"][first.dataset]
    pretrain = next((p for p in map(lambda r: pretrain_for(config, r), split_group) if p is not None), None)
    planned = tuple(RunPlan(method=run.method, run_dir=str(run_dir(run)),
                            hyper_parameters=method_params(config, first.dataset, run.method),
                            net=ds["net"] if methods[run.method].deep or methods[run.method].hybrid else None,
                            uses_autoencoder=pretrain_for(config, run) is not None,
                            code=run_version(run.method, first.dataset,  # the code this run uses (code_version.py)
                                             ds["net"] if methods[run.method].deep or methods[run.method].hybrid
                                             else None))
                    for run in split_group)
    return SplitPlan(
        dataset=first.dataset, setting=first.setting, normal_classes=tuple(parse_normal(first.normal)),
        seed=first.seed, device=first.device, prepared=str(prepared), split=str(split),
        split_params=split_params(config, first.setting), preprocessing=ds["preprocessing"],
        autoencoder=None if pretrain is None else AutoencoderPlan(
            path=str(autoencoder_path(pretrain)), net=pretrain.net, params=autoencoder_params(config, first.dataset),
            code=autoencoder_version(first.dataset, pretrain.net)),
        runs=planned)
