# Grid expansion and helpers. The config is validated (defaults filled) by the Snakefile
# before this file is read; the logic itself lives in ocbench.config and is tested there.
import json
import os
from functools import lru_cache
from pathlib import Path

from ocbench.config import (Batch, anomaly_datasets_of, attack_of, batch_job_plan, batches_reading_their_splits_alone,
                            classifier_params, dataset_mirror, dataset_settings, group_runs, runs, split_params)
from ocbench.config import auto_uses_gpu
from ocbench.cost import batch_seconds, runtime_minutes
from ocbench.errors import OcbenchError
from ocbench.data.adversarial import attack_name
from ocbench.data.registry import DATASETS
from ocbench.jobs.plan import plan_digest, write_batch_plan
from ocbench.jobs.plan_changes import describe_plan_change
from ocbench import paths
from ocbench.report.published import load_published
from ocbench.report.rank_layout import config_rank_groups, rank_figure_name, rank_table_name

# A published table naming a dataset, method or class that ocbench does not know stops the
# workflow here, in one line, before any job (the summary compares the runs with them).
load_published()

DATADIR = config["datadir"]
OUTDIR = config["outdir"]
RUNS = runs(config)
# The runs of each batch job: every split of one (dataset, setting, seed) on one device
# (ocbench.config.batch_of).
BATCHES = group_runs(RUNS)

# Path patterns: ocbench.paths holds them (and the report's parser of a run directory).
RAW_DONE = paths.under(DATADIR, paths.RAW_DONE)
PREPARED = paths.under(DATADIR, paths.PREPARED)
CLASSIFIER = paths.under(DATADIR, paths.CLASSIFIER)
ATTACKED = paths.under(DATADIR, paths.ATTACKED)
SPLIT_KEY = paths.SPLIT_KEY
SPLIT = paths.under(OUTDIR, paths.SPLIT)
BATCH_KEY = paths.BATCH_KEY
# Each batch job's declared output: its runs, each with its status. The run directories
# and the autoencoder are not outputs, so Snakemake never deletes a finished result.
MANIFEST = paths.under(OUTDIR, paths.MANIFEST)
# Each batch job's plan: the job's input, written again only when it changes.
PLAN = paths.under(OUTDIR, paths.PLAN)
TABLES = f"{OUTDIR}/tables"
FIGURES = f"{OUTDIR}/figures"
LOGS = f"{OUTDIR}/logs"
ENV = "../envs/ocbench.yaml"


wildcard_constraints:
    **paths.WILDCARDS,


def as_json(value):
    """Parameters as one canonical string, so an unchanged value never reruns a job."""
    return json.dumps(value, sort_keys=True)


def dataset_option(dataset, key):
    return config["datasets"][dataset][key]


def mirror_option(wildcards):
    mirror = dataset_mirror(config, wildcards.dataset)
    return f"--mirror {mirror}" if mirror else ""


def anomaly_prepared(wildcards):
    """The prepared files of the datasets a setting draws its anomalies from (docs/settings.md)."""
    return [paths.prepared_file(DATADIR, name) for name in anomaly_datasets_of(config, wildcards.setting)]


def attacked_input(wildcards):
    """The attacked images a split of a setting with an attack is drawn from (docs/settings.md)."""
    attack = attack_of(config, wildcards.setting)
    return [ATTACKED.format(dataset=wildcards.dataset, seed=wildcards.seed, attack=attack_name(attack))] if attack else []


def attack_params(wildcards):
    """The attack a file name stands for (the settings' attacks by attack_name), as canonical JSON."""
    attacks = {attack_name(s["attack"]): s["attack"] for s in config["settings"].values() if s.get("attack")}
    return as_json({key: attacks[wildcards.attack][key] for key in ("epsilon", "step_size", "steps")})


# `auto` jobs ask for a GPU where they will use one (torch is imported only where an NVIDIA driver exists)
AUTO_USES_GPU = auto_uses_gpu(config, workflow.local_exec)


def gpus(wildcards):
    """One GPU for a job that trains on CUDA: device `cuda`, or `auto` on a machine with a
    GPU (the local scheduler and the SLURM executor read `gpu`)."""
    return int(wildcards.device == "cuda" or (wildcards.device == "auto" and AUTO_USES_GPU))


# --------------------------------------------------------------------------- batches

def manifest_of(batch):
    return paths.manifest_file(OUTDIR, batch)


def batch_of_wildcards(wildcards):
    return Batch(wildcards.dataset, wildcards.setting, int(wildcards.seed), wildcards.device)


def split_of(run):
    return paths.split_file(OUTDIR, run)


def batch_splits(wildcards):
    """The split files of a batch's runs (its inputs besides the prepared file)."""
    return list(dict.fromkeys(split_of(run) for run in BATCHES[batch_of_wildcards(wildcards)]))


@lru_cache(maxsize=None)
def batch_plan_of(batch):
    """A batch job's plan (ocbench.config.batch_job_plan), worked out once per Snakemake call."""
    return batch_job_plan(config, BATCHES[batch], prepared=PREPARED.format(dataset=batch.dataset),
                          split_of=split_of,
                          run_dir=lambda run: paths.run_dir(OUTDIR, run),
                          autoencoder_path=lambda pretrain: paths.autoencoder_file(OUTDIR, pretrain))


def plan_digest_of(wildcards):
    """The plan's fingerprint: the plan job's params, so that a changed value reruns it (and, through
    the plan file, the batch job), while the console shows a short value instead of the plan.

    Built from the wildcards only: Snakemake's params trigger ignores a params function
    that reads `input` or `output`."""
    return plan_digest(batch_plan_of(batch_of_wildcards(wildcards)))


def plan_change(wildcards, output):
    """What changed against the plan on disk, by key, for the job's message (it reads `output`,
    so Snakemake does not track it as a parameter)."""
    return describe_plan_change(output.plan, batch_plan_of(batch_of_wildcards(wildcards)).as_dict())


# --------------------------------------------------------------------------- report

def all_manifests():
    return [manifest_of(batch) for batch in BATCHES]


def latex_tables():
    return [f"{TABLES}/auroc_{dataset}_{setting}.tex" for dataset, setting in dataset_settings(config)]


def rank_tables():
    """A ranks table per (dataset, setting), and per setting over all its datasets where it has two or more."""
    return [f"{TABLES}/{rank_table_name(scope, setting)}" for scope, setting in config_rank_groups(config)]


def rank_figures():
    """The critical-difference diagram of each ranks table."""
    return [f"{FIGURES}/critical_difference/{rank_figure_name(scope, setting)}"
            for scope, setting in config_rank_groups(config)]


def roc_figures():
    return [f"{FIGURES}/roc/{dataset}/{setting}.png" for dataset, setting in dataset_settings(config)]


def extremes_seeds_option(wildcards):
    seeds = config["extremes_seeds"]
    return "" if seeds is None else "--seeds " + " ".join(str(seed) for seed in seeds)


def extremes_figures():
    """One folder per (dataset, setting) of an image dataset with runs of a seed in extremes_seeds
    (default all): a picture per good run."""
    seeds = config["extremes_seeds"]
    families = {(run.dataset, run.setting) for run in RUNS
                if DATASETS[run.dataset].kind == "image" and (seeds is None or run.seed in seeds)}
    return [f"{FIGURES}/extremes/{dataset}/{setting}" for dataset, setting in dataset_settings(config)
            if (dataset, setting) in families]


def final_outputs():
    # The splits are targets themselves: a split removed by a job that failed on a rerun (an
    # unreadable prepared file) is then remade by the same command once the prepared file is
    # deleted. As an intermediate input of a finished batch, Snakemake would leave it missing.
    return [
        *dict.fromkeys(split_of(run) for run in RUNS),
        f"{TABLES}/runs.csv",
        f"{TABLES}/auroc_summary.csv",
        *latex_tables(),
        f"{TABLES}/ranks.csv",
        *rank_tables(),
        *rank_figures(),
        f"{FIGURES}/auroc.png",
        *roc_figures(),
        *extremes_figures(),
        f"{OUTDIR}/summary.md",
    ]


# --------------------------------------------------------------------------- cluster resources
# What a job asks of SLURM (workflow/profiles/slurm, docs/cluster.md), from the config's
# `cluster` block. Local runs read only `gpu` (with `--resources gpu=N`, at most N CUDA jobs
# at once) and ignore the rest. `kind` is "small" or "train" (a key of config["cluster"]).


def _device(wildcards):
    return wildcards.get("device", "cpu")


def partition_of(device):
    """The GPU partition for a CUDA job, else the CPU partition ('' asks for the cluster's default)."""
    key = "gpu_partition" if device == "cuda" else "cpu_partition"
    return config["cluster"][key] or ""


def slurm_partition(wildcards):
    return partition_of(_device(wildcards))


def cpu_partition(wildcards):
    return config["cluster"]["cpu_partition"] or ""


# (--config hands nested values over as text)
LOCAL_PREPARE = config["cluster"]["local_prepare"] in (True, "true")


def cluster_mem_mb(kind):
    """Memory of a job of this kind; a retried attempt asks for memory_growth times more."""
    def mem_mb(wildcards, attempt):
        growth = float(config["cluster"]["memory_growth"]) ** (attempt - 1)
        return int(int(config["cluster"][kind]["mem_mb"]) * growth)
    return mem_mb


def cluster_runtime(kind):
    runtime = config["cluster"][kind]["runtime"]
    return train_runtime if runtime == "estimate" else int(runtime)


# Each training job's predicted seconds (ocbench.cost, docs/cost.md), or the error that
# stopped the prediction, worked out once, for the first job that asks: only a cluster run
# (and a dry run, which shows them) reads the calibration.
PREDICTED = {}


def predicted_seconds():
    """{Batch: seconds}; raises the OcbenchError (one line) when the calibration lacks a timing."""
    if not PREDICTED:
        try:
            PREDICTED["seconds"] = batch_seconds(config)
        except OcbenchError as err:
            PREDICTED["error"] = err
    if "error" in PREDICTED:
        raise PREDICTED["error"]
    return PREDICTED["seconds"]


def train_runtime(wildcards, attempt):
    """Minutes a training job asks the cluster for with `runtime: estimate`: the cost model's
    prediction × runtime_safety, at least runtime_floor, times the attempt.

    Local runs ignore it (and read no calibration); a job the model does not predict (the
    classifier, the attack), and any job without a calibration, ask for the floor: the
    SLURM executor then stops before any job (rules/cluster.smk), a dry run shows the floor.
    """
    train = config["cluster"]["train"]
    floor = int(train["runtime_floor"])
    plugin = workflow.executor_plugin
    if wildcards.get("device") is None or plugin is None or plugin.name == "local" or plugin.name.endswith("jobstep"):
        return floor
    try:
        seconds = predicted_seconds()[batch_of_wildcards(wildcards)]
    except OcbenchError:
        return floor
    return runtime_minutes(seconds, float(train["runtime_safety"]), floor, attempt)


def cluster_resources(kind):
    """The SLURM resources of a rule, as `resources: **cluster_resources(kind)`.

    Only "train" jobs follow their {device} wildcard to the GPU partition (and ask for a
    GPU through `gpu=gpus`); the small jobs of a CUDA run (its figures) stay on the CPU one.
    """
    partition = slurm_partition if kind == "train" else cpu_partition
    return dict(slurm_partition=partition, mem_mb=cluster_mem_mb(kind), runtime=cluster_runtime(kind))


# --------------------------------------------------------------------------- SLURM jobs of the splits
# On SLURM a batch that alone reads each of its splits (ocbench.config.grid) makes them in
# its own job, before it trains: group "batch", one submission where a group of splits and
# then the batch would be two in a row, each waiting for the scheduler and the plugin's
# status checks (docs/cluster.md). The splits that two batches read (a cuda batch and the
# cpu batch of the shallow methods) go to the "splits" group: in the job of one batch, the
# other batch would wait for its training. Local runs ignore groups.
SELF_SPLITTING = batches_reading_their_splits_alone(BATCHES)
# split file -> the batch whose job makes it
SPLIT_MAKER = {split_of(run): batch for batch in SELF_SPLITTING for run in BATCHES[batch]}


def split_maker(wildcards):
    return SPLIT_MAKER.get(SPLIT.format(**dict(wildcards.items())))


def split_group(wildcards):
    return "batch" if split_maker(wildcards) else "splits"


def batch_group(wildcards):
    return "batch" if batch_of_wildcards(wildcards) in SELF_SPLITTING else None


def split_resources():
    """A split's SLURM resources: the small jobs', except in its batch's job. There it is on the
    batch's partition (a SLURM job has one), and adds one minute to the job's time limit
    rather than cluster.small.runtime: it takes seconds, and the batch's limit has margin."""
    resources = cluster_resources("small")
    small_runtime = resources["runtime"]

    def partition(wildcards):
        batch = split_maker(wildcards)
        return partition_of(batch.device) if batch else cpu_partition(wildcards)

    def runtime(wildcards):
        return 1 if split_maker(wildcards) else small_runtime

    return dict(resources, slurm_partition=partition, runtime=runtime)


# Local runs on a machine with several GPUs: the training command runs under this script,
# which gives a CUDA job one GPU of its own (see the script and docs/cluster.md). Handed to
# the jobs' shells as an environment variable: a path is no parameter of a job's result.
os.environ.update(OCBENCH_ONE_GPU=str(Path(workflow.basedir) / "workflow" / "scripts" / "one_gpu.sh"))
