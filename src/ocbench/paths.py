"""The layout of the workflow's files: every path pattern, once, and the parser of a run directory.

The patterns are format strings whose fields are the wildcards of the rules
(``{dataset}``, ``{setting}``, ``{normal}``, ``{seed}``, ``{method}``, ``{device}``,
``{net}``), relative to the config's ``datadir`` (``RAW_DONE``, ``PREPARED``) or
``outdir`` (the others). ``under(folder, pattern)`` gives the rules their full
pattern, with the wildcards left open; ``run_dir(outdir, run)`` and its siblings fill
them from a grid entry (``config.Run``, ``Pretrain``, ``Batch``, whose fields carry
the same names). ``parse_run_dir`` reads the keys back from a path, as the report does
for a run made by hand. ``{normal}`` is the normal classes joined by ``-``
(``config.normal_name``).

Plain strings only: the workflow imports this module while it parses the Snakefile.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

#: what each wildcard may match: the rules' wildcard_constraints and the run-directory parser
WILDCARDS = {
    "dataset": r"[^/]+",
    "setting": r"[^/]+",
    "normal": r"\d+(?:-\d+)*",
    "seed": r"\d+",
    "method": r"[^/]+",
    "net": r"[^/]+",
    "device": r"cpu|cuda|auto",
    "attack": r"pgd_[^/]+",  # data.adversarial.attack_name
}

# The keys shared by the patterns below.
SPLIT_KEY = "{dataset}/{setting}/{normal}/seed{seed}"
PRETRAIN_KEY = SPLIT_KEY + "/{net}/{device}"
RUN_KEY = SPLIT_KEY + "/{method}/{device}"
#: one training job: every normal-class split of one (dataset, setting, seed) on one device
BATCH_KEY = "{dataset}/{setting}/seed{seed}/{device}"

# Under the config's datadir.
RAW_DONE = "raw/{dataset}/.fetched"  # marker written once the raw files are in place
PREPARED = "prepared/{dataset}.npz"  # the anomaly datasets' prepared files lie beside it (data/ood.py)
#: the classifier that a dataset's attacks attack, and its attacked test images (data/adversarial.py)
CLASSIFIER = "adversarial/{dataset}/seed{seed}/classifier.pt"
ATTACKED = "adversarial/{dataset}/seed{seed}/{attack}.npz"

# Under the config's outdir.
SPLIT = "splits/" + SPLIT_KEY + ".npz"
AUTOENCODER = "pretrain/" + PRETRAIN_KEY + "/autoencoder.pt"  # its record beside it, autoencoder.json
RUN_DIR = "runs/" + RUN_KEY
#: a batch job's declared output: each of its run directories and its status
MANIFEST = "batches/" + BATCH_KEY + ".json"
#: a batch job's plan (``jobs.plan.BatchPlan``), the job's input: written again only when it changes
PLAN = "plans/" + BATCH_KEY + ".json"
#: one picture of the most normal and most anomalous test images per run, under
#: figures/extremes/{dataset}/{setting}/
EXTREMES_FIGURE = "{normal}/seed{seed}/{method}/{device}.png"

# The files of a run directory.
METRICS = "metrics.json"
SCORES = "scores.csv"
PARAMS = "params.json"  # the run's full resolved request
MODEL = "model.pt"  # deep methods only
#: the record a run leaves when its latest attempt failed (beside the last good files, if any)
FAILED_RECORD = "failed.json"


@lru_cache(maxsize=64)
def _posix(folder) -> str:
    # cached: the workflow formats hundreds of thousands of paths under the same two folders
    return Path(folder).as_posix()


def under(folder, pattern: str) -> str:
    """``pattern`` under ``folder`` (the config's datadir or outdir), its wildcards left open."""
    return f"{_posix(folder)}/{pattern}"


def _fill(folder, pattern: str, entry) -> str:
    fields = entry if isinstance(entry, dict) else vars(entry)
    return under(folder, pattern).format(**fields)


def prepared_file(datadir, dataset: str) -> str:
    return under(datadir, PREPARED).format(dataset=dataset)


def split_file(outdir, run) -> str:
    """The split file of a run (or of anything with dataset, setting, normal and seed)."""
    return _fill(outdir, SPLIT, run)


def autoencoder_file(outdir, pretrain) -> str:
    return _fill(outdir, AUTOENCODER, pretrain)


def run_dir(outdir, run) -> str:
    """The directory of one run: ``{outdir}/runs/{dataset}/{setting}/{normal}/seed{seed}/{method}/{device}``."""
    return _fill(outdir, RUN_DIR, run)


def manifest_file(outdir, batch) -> str:
    return _fill(outdir, MANIFEST, batch)


def _regex(pattern: str) -> str:
    """``pattern`` as a regular expression with one named group per field."""
    parts = re.split(r"\{(\w+)\}", pattern)
    return "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>{WILDCARDS[part]})"
                   for i, part in enumerate(parts))


# A run directory, or a file in one, anywhere in a path.
_RUN_PATH = re.compile(r"(?:^|/)" + _regex(RUN_DIR) + r"(?:/[^/]+)?$")


def parse_run_dir(path) -> dict | None:
    """The run keys spelled by a run directory's path (or by the path of a file in it),
    ``seed`` as an int; None when the path has another shape."""
    match = _RUN_PATH.search(Path(path).as_posix())
    if match is None:
        return None
    keys = match.groupdict()
    keys["seed"] = int(keys["seed"])
    return keys
