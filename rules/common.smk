# Grid expansion and helpers. The config is validated (defaults filled) by the Snakefile
# before this file is read; the logic itself lives in ocbench.config and is tested there.
import json
import re
from pathlib import Path

from ocbench.config import (
    autoencoder_params,
    dataset_settings,
    method_params,
    needs_autoencoder,
    pretrain_for,
    runs,
    split_params,
    uses_validation,
)
from ocbench.data.sources import DATASETS
from ocbench.detectors import METHODS

DATADIR = config["datadir"]
OUTDIR = config["outdir"]
RUNS = runs(config)

# Path patterns (docs/architecture.md). {normal} is the normal classes joined by '-'.
RAW_DONE = f"{DATADIR}/raw/{{dataset}}/.fetched"
PREPARED = f"{DATADIR}/prepared/{{dataset}}.npz"
SPLIT_KEY = "{dataset}/{setting}/{normal}/seed{seed}"
SPLIT = f"{OUTDIR}/splits/{SPLIT_KEY}.npz"
PRETRAIN_KEY = f"{SPLIT_KEY}/{{net}}/{{device}}"
AUTOENCODER = f"{OUTDIR}/pretrain/{PRETRAIN_KEY}/autoencoder.pt"
RUN_KEY = f"{SPLIT_KEY}/{{method}}/{{device}}"
RUN_DIR = f"{OUTDIR}/runs/{RUN_KEY}"
TABLES = f"{OUTDIR}/tables"
FIGURES = f"{OUTDIR}/figures"
LOGS = f"{OUTDIR}/logs"
BENCHMARKS = f"{OUTDIR}/benchmarks"
ENV = "../envs/ocbench.yaml"


def _alternatives(names):
    # Longest first, so that 'ocsvm_hybrid' is never read as 'ocsvm'.
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


# train.smk and baselines.smk write the same run-directory pattern; the method decides.
DEEP_METHODS = _alternatives(m for m, spec in METHODS.items() if spec.deep)
SHALLOW_METHODS = _alternatives(m for m, spec in METHODS.items() if not spec.deep)


wildcard_constraints:
    dataset="[^/]+",
    setting="[^/]+",
    normal=r"\d+(-\d+)*",
    seed=r"\d+",
    net="[^/]+",
    device="cpu|cuda|auto",


def as_json(value):
    """Parameters as one canonical string, so an unchanged value never reruns a job."""
    return json.dumps(value, sort_keys=True)


def dataset_option(dataset, key):
    return config["datasets"][dataset][key]


def mirror_option(wildcards):
    mirror = dataset_option(wildcards.dataset, "mirror")
    return f"--mirror {mirror}" if mirror else ""


def gpus(wildcards):
    """One GPU for a CUDA job (the local scheduler and the SLURM executor read `gpu`)."""
    return int(wildcards.device == "cuda")


# --------------------------------------------------------------------------- runs

def run_path(run, name):
    return f"{RUN_DIR.format(**vars(run))}/{name}"


def run_inputs(wildcards):
    inputs = {"prepared": PREPARED.format(**wildcards), "split": SPLIT.format(**wildcards)}
    if needs_autoencoder(config, wildcards.method):
        net = dataset_option(wildcards.dataset, "net")
        inputs["autoencoder"] = AUTOENCODER.format(net=net, **wildcards)
    return inputs


def net_option(wildcards):
    """The network of the methods that build or read one; the others do not depend on it."""
    spec = METHODS[wildcards.method]
    if spec.deep or spec.hybrid:
        return f"--net {dataset_option(wildcards.dataset, 'net')}"
    return ""


def run_hyper_parameters(wildcards):
    return as_json(method_params(config, wildcards.dataset, wildcards.method))


def autoencoder_option(wildcards, input):
    autoencoder = input.get("autoencoder")
    return f"--autoencoder {autoencoder}" if autoencoder else ""


def validation_option(wildcards):
    """Only the methods that select on labelled data depend on the validation share."""
    if uses_validation(wildcards.method):
        return f"--validation-fraction {config['validation_fraction']}"
    return ""


def run_dir(wildcards, output):
    return str(Path(output.metrics).parent)


# --------------------------------------------------------------------------- report

def all_metrics():
    return [run_path(run, "metrics.json") for run in RUNS]


def scores_of(dataset, setting):
    return [run_path(run, "scores.csv") for run in RUNS if (run.dataset, run.setting) == (dataset, setting)]


def latex_tables():
    return [f"{TABLES}/auroc_{dataset}_{setting}.tex" for dataset, setting in dataset_settings(config)]


def roc_figures():
    return [f"{FIGURES}/roc/{dataset}/{setting}.png" for dataset, setting in dataset_settings(config)]


def extremes_figures():
    """One picture per run of an image dataset (of the seeds in extremes_seeds, default all)."""
    seeds = config["extremes_seeds"]
    return [f"{FIGURES}/extremes/{RUN_KEY.format(**vars(run))}.png" for run in RUNS
            if DATASETS[run.dataset].kind == "image" and (seeds is None or run.seed in seeds)]


def final_outputs():
    return [
        f"{TABLES}/runs.csv",
        f"{TABLES}/auroc_summary.csv",
        *latex_tables(),
        f"{FIGURES}/auroc.png",
        *roc_figures(),
        *extremes_figures(),
        f"{OUTDIR}/summary.md",
    ]
