"""``ocbench <command>``: argument parsing only; each command calls one function of ``jobs`` or ``report``.

Errors a user can fix (``OcbenchError``) print as ``ocbench: error: <one line>`` and
exit with status 2; the log lines go to stderr at INFO, where Snakemake's ``log:``
captures them.
"""
from __future__ import annotations

import argparse
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .argtypes import json_object
from .config import (check_local_devices, group_runs, in_config_files, load_config_file, parse_normal,
                     pretrain_jobs, runs)
from .errors import OcbenchError
from .jobs.batch import run_batches
from .jobs.data_jobs import attack, fetch_dataset, prepare, split, train_classifier
from .jobs.method_run import run_method
from .jobs.plan import one_run_plan, read_batch_plan
from .jobs.pretraining import pretrain
from .plugins import load_environment_plugins
from .report.commands import add_report_commands


def _normal(text: str) -> list[int]:
    try:
        return parse_normal(text)
    except OcbenchError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _optional_path(text: str):
    return text or None


# --------------------------------------------------------------------------- commands

def _fetch(args):
    fetch_dataset(args.dataset, args.raw_dir, args.mirror, args.done)


def _prepare(args):
    prepare(args.dataset, args.raw_dir, args.mirror, args.out)


def _split(args):
    split(args.dataset, args.prepared, args.normal, args.seed, args.params, args.out)


def _train_classifier(args):
    train_classifier(args.prepared, args.seed, args.params, args.out)


def _attack(args):
    attack(args.prepared, args.classifier, args.seed, args.params, args.out, args.device)


def _pretrain(args):
    pretrain(args.prepared, args.split, args.preprocessing, args.net, args.device, args.seed, args.params,
             args.out)


def _run(args):
    run_method(*one_run_plan(args.method, prepared=args.prepared, split=args.split, preprocessing=args.preprocessing,
                             seed=args.seed, run_dir=args.outdir, net=args.net, device=args.device,
                             hyper_parameters=args.params, autoencoder=args.autoencoder, dataset=args.dataset,
                             setting=args.setting, normal_classes=args.normal))


def _run_batch(args):
    run_batches(read_batch_plan(args.plan), args.manifest)


def _check_config(args):
    config = load_config_file(args.config)
    if not args.cluster:
        try:
            check_local_devices(config)
        except OcbenchError as err:
            raise in_config_files(args.config, err) from None
    grid = runs(config)
    print(f"{args.config}: valid; {len(grid)} runs in {len(group_runs(grid))} batch jobs, "
          f"{len(pretrain_jobs(config))} pretrained autoencoders")
    if args.snakefile is None and Path("Snakefile").is_file():
        args.snakefile = "Snakefile"  # run from the workflow's folder
    if args.snakefile:
        print(f"{args.config}: Snakemake would run {_planned_jobs(args.snakefile, args.config)} jobs now")


def _estimate(args):
    from .config import load_config_file
    from .cost import estimate, format_estimate

    print(format_estimate(estimate(load_config_file(args.config), args.config, args.device, args.calibration,
                                   clock=args.clock), list_jobs=args.jobs))


def _planned_jobs(snakefile: str, configfile: str) -> str:
    """The 'total' of the workflow's dry run (the jobs still to run, given the files already made)."""
    executable = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
    command = [executable, "--snakefile", snakefile, "--configfile", configfile, "--dry-run", "--quiet", "rules"]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except OSError as err:
        raise OcbenchError(f"cannot run snakemake to count the jobs ({err.strerror}); leave out --snakefile") \
            from None
    output = result.stdout + result.stderr
    match = re.search(r"^total\s+(\d+)\s*$", output, re.MULTILINE)
    if match:
        return match.group(1)
    if "Nothing to be done" in output:
        return "0"
    last = output.strip().splitlines()[-1] if output.strip() else f"exit status {result.returncode}"
    raise OcbenchError(f"the dry run of {snakefile} did not list its jobs: {last}")


# --------------------------------------------------------------------------- parser

#: the job commands' arguments, each declared once: name -> argparse keywords (a command may change some)
_ARGUMENTS = {
    "dataset": dict(required=True),
    "raw_dir": dict(required=True),
    "mirror": dict(type=_optional_path, default=None, help="local folder holding the raw files"),
    "done": dict(help="marker file written once the files are in place"),
    "prepared": dict(required=True),
    "split": dict(required=True),
    "preprocessing": dict(required=True),
    "net": dict(default=None, help="network name (deep and hybrid methods)"),
    "device": dict(default="cpu"),
    "normal": dict(type=_normal, required=True, help="normal classes joined by '-', e.g. 3 or 0-1"),
    "seed": dict(type=int, required=True),
    "params": dict(type=json_object, default={}, help="hyper-parameters as a JSON object"),
    "out": dict(required=True),
}


def _command(sub, name: str, func, help: str, *arguments: str, **changes: dict) -> argparse.ArgumentParser:
    """The subcommand ``name`` with the ``arguments`` of ``_ARGUMENTS`` (``changes`` updates their keywords)."""
    parser = sub.add_parser(name, help=help)
    for argument in arguments:
        parser.add_argument("--" + argument.replace("_", "-"), **{**_ARGUMENTS[argument], **changes.get(argument, {})})
    parser.set_defaults(func=func)
    return parser


def _add_job_commands(sub) -> None:
    _command(sub, "fetch", _fetch, "put the verified raw files of a dataset in a folder",
             "dataset", "raw_dir", "mirror", "done")
    _command(sub, "prepare", _prepare, "write the prepared .npz of a dataset",
             "dataset", "raw_dir", "mirror", "out")
    _command(sub, "split", _split, "draw and save the split of one (dataset, setting, normal classes, seed)",
             "dataset", "prepared", "normal", "seed", "params", "out",
             params={"help": "the setting's ratios as a JSON object"})
    _command(sub, "train-classifier", _train_classifier,
             "train the classifier that a dataset's attacks attack (once per seed)",
             "prepared", "seed", "params", "out", params={"help": "training settings (training.classifier) as JSON"})
    p = _command(sub, "attack", _attack, "attack every test image of a dataset against its classifier (L-inf PGD)",
                 "prepared", "seed", "params", "device", "out",
                 params={"required": True, "help": "the attack (epsilon, step_size, steps) as JSON"},
                 device={"help": "cpu, or auto (CUDA when present): training.classifier.device"})
    p.add_argument("--classifier", required=True)

    split_arguments = ("prepared", "split", "preprocessing", "net", "device", "seed", "params")
    _command(sub, "pretrain", _pretrain, "train the shared autoencoder of one split", *split_arguments, "out")
    recorded = {"required": False, "help": "recorded in metrics.json"}
    p = _command(sub, "run", _run, "fit and score one method on one split; write its run directory",
                 *split_arguments, "dataset", "normal", dataset=recorded, normal=recorded)
    p.add_argument("--method", required=True)
    p.add_argument("--autoencoder", type=_optional_path, default=None, help="pretrained autoencoder file")
    p.add_argument("--outdir", required=True)
    p.add_argument("--setting", help="recorded in metrics.json")

    p = _command(sub, "run-batch", _run_batch, "fit and score the runs of one batch (its splits on one device) in "
                 "one process; skip those whose resolved parameters and inputs are unchanged")
    p.add_argument("--plan", required=True, help="the batch plan's JSON file (written by the workflow's plan rule)")
    p.add_argument("--manifest", help="JSON file to write: each run directory and its status")

    p = _command(sub, "check-config", _check_config, "validate a workflow config file and count its jobs")
    p.add_argument("config")
    p.add_argument("--cluster", action="store_true",
                   help="the jobs run on other machines: do not check this one for the devices the config lists")
    p.add_argument("--snakefile", help="also count the jobs a dry run of this workflow plans (Snakemake's total); "
                                       "default ./Snakefile where there is one, '' for none")


def _unlock_stale(args):
    from .locks import remove_stale_lock

    if remove_stale_lock(args.directory):
        print(f"ocbench: removed the lock a killed run left in {args.directory} (no workflow runs there)",
              file=sys.stderr)


def _add_workflow_commands(sub) -> None:
    p = sub.add_parser("unlock-stale", help="remove the Snakemake lock a killed run left in a working directory "
                                            "(never a live run's): then the same snakemake command resumes")
    p.add_argument("--directory", default=".", help="the workflow's working directory (default: here)")
    p.set_defaults(func=_unlock_stale)

    p = sub.add_parser("estimate", help="predict each job's time before anything runs (docs/cost.md); "
                                        "times what the calibration file lacks on this machine first")
    p.add_argument("config")
    p.add_argument("--device", choices=("cpu", "cuda"), help="train every deep run on this device "
                                                              "(default: the config's devices)")
    p.add_argument("--calibration", help="calibration file to read (default: DATADIR/calibration/DEVICE.json, "
                                         "for cuda else the one that ships with ocbench)")
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                   help="cpu: the time of one dedicated core; wall: as timed on this machine at its load")
    p.add_argument("--jobs", type=int, default=20, help="list at most this many training jobs, the longest")
    p.set_defaults(func=_estimate)


def build_parser() -> argparse.ArgumentParser:
    # "@file" stands for the arguments listed in that file, one a line (long lists of paths).
    parser = argparse.ArgumentParser(prog="ocbench", description=__doc__.splitlines()[0], fromfile_prefix_chars="@")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    _add_job_commands(sub)
    _add_workflow_commands(sub)
    add_report_commands(sub)
    return parser


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        # The methods, datasets and nets of the workflow's plugins (ocbench.plugins), before any command.
        load_environment_plugins()
        args.func(args)
    except OcbenchError as err:
        print(f"ocbench: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
