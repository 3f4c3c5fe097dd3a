"""``ocbench <command>``: argument parsing only; each command calls one function of ``runs`` or ``report``.

Errors a user can fix (``OcbenchError``) print as ``ocbench: error: <one line>`` and
exit with status 2; the log lines go to stderr at INFO, where Snakemake's ``log:``
captures them.
"""
from __future__ import annotations

import argparse
import logging
import sys

from .argtypes import json_object
from .errors import OcbenchError
from .report.commands import add_report_commands


def _normal(text: str) -> list[int]:
    from .config import parse_normal

    try:
        return parse_normal(text)
    except OcbenchError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _optional_path(text: str):
    return text or None


# --------------------------------------------------------------------------- commands

def _fetch(args):
    from .runs import fetch_dataset
    fetch_dataset(args.dataset, args.raw_dir, args.mirror, args.done)


def _prepare(args):
    from .runs import prepare
    prepare(args.dataset, args.raw_dir, args.mirror, args.out)


def _split(args):
    from .runs import split
    split(args.dataset, args.prepared, args.normal, args.seed, args.params, args.out)


def _train_classifier(args):
    from .runs import train_classifier
    train_classifier(args.prepared, args.seed, args.params, args.out)


def _attack(args):
    from .runs import attack
    attack(args.prepared, args.classifier, args.seed, args.params, args.out, args.device)


def _pretrain(args):
    from .runs import pretrain
    pretrain(args.prepared, args.split, args.preprocessing, args.net, args.device, args.seed, args.params,
             args.out)


def _run(args):
    from .runs import run_method
    run_method(args.method, args.prepared, args.split, args.preprocessing, args.net, args.device, args.seed,
               args.params, args.autoencoder, args.outdir,
               dataset=args.dataset, setting=args.setting, normal_classes=args.normal)


def _run_batch(args):
    from .runs import run_batches
    run_batches(args.plan, args.manifest)


def _plan(text: str) -> dict:
    """A batch plan: a JSON object, or the path of a file holding one."""
    from pathlib import Path

    if not text.lstrip().startswith("{"):
        try:
            text = Path(text).read_text()
        except OSError as err:
            raise argparse.ArgumentTypeError(f"cannot read plan file {text}: {err.strerror}") from None
    return json_object(text)


def _check_config(args):
    from pathlib import Path

    from .config import check_local_devices, group_runs, in_config_files, load_config_file, pretrain_jobs, runs
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
    import re
    import shutil
    import subprocess
    from pathlib import Path

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

def _add_job_commands(sub) -> None:
    p = sub.add_parser("fetch", help="put the verified raw files of a dataset in a folder")
    p.add_argument("--dataset", required=True)
    p.add_argument("--raw-dir", required=True)
    p.add_argument("--mirror", type=_optional_path, default=None, help="local folder holding the raw files")
    p.add_argument("--done", help="marker file written once the files are in place")
    p.set_defaults(func=_fetch)

    p = sub.add_parser("prepare", help="write the prepared .npz of a dataset")
    p.add_argument("--dataset", required=True)
    p.add_argument("--raw-dir", required=True)
    p.add_argument("--mirror", type=_optional_path, default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_prepare)

    p = sub.add_parser("split", help="draw and save the split of one (dataset, setting, normal classes, seed)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--prepared", required=True)
    p.add_argument("--normal", type=_normal, required=True, help="normal classes joined by '-', e.g. 3 or 0-1")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--params", type=json_object, default={}, help="the setting's ratios as a JSON object")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_split)

    p = sub.add_parser("train-classifier", help="train the classifier that a dataset's attacks attack (once per seed)")
    p.add_argument("--prepared", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--params", type=json_object, default={}, help="training settings (training.classifier) as JSON")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_train_classifier)

    p = sub.add_parser("attack", help="attack every test image of a dataset against its classifier (L-inf PGD)")
    p.add_argument("--prepared", required=True)
    p.add_argument("--classifier", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--params", type=json_object, required=True, help="the attack (epsilon, step_size, steps) as JSON")
    p.add_argument("--device", default="cpu", help="cpu, or auto (CUDA when present): training.classifier.device")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_attack)

    def common(p):
        p.add_argument("--prepared", required=True)
        p.add_argument("--split", required=True)
        p.add_argument("--preprocessing", required=True)
        p.add_argument("--net", default=None, help="network name (deep and hybrid methods)")
        p.add_argument("--device", default="cpu")
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--params", type=json_object, default={}, help="hyper-parameters as a JSON object")

    p = sub.add_parser("pretrain", help="train the shared autoencoder of one split")
    common(p)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_pretrain)

    p = sub.add_parser("run", help="fit and score one method on one split; write its run directory")
    p.add_argument("--method", required=True)
    common(p)
    p.add_argument("--autoencoder", type=_optional_path, default=None, help="pretrained autoencoder file")
    p.add_argument("--outdir", required=True)
    p.add_argument("--dataset", help="recorded in metrics.json")
    p.add_argument("--setting", help="recorded in metrics.json")
    p.add_argument("--normal", type=_normal, help="recorded in metrics.json")
    p.set_defaults(func=_run)

    p = sub.add_parser("run-batch", help="fit and score the runs of one batch (its splits on one device) in "
                                         "one process; skip those whose resolved parameters and inputs are unchanged")
    p.add_argument("--plan", type=_plan, required=True,
                   help='the batch plan, {"splits": config.batch_plans(...)}, as a JSON object or a file holding one')
    p.add_argument("--manifest", help="JSON file to write: each run directory and its status")
    p.set_defaults(func=_run_batch)

    p = sub.add_parser("check-config", help="validate a workflow config file and count its jobs")
    p.add_argument("config")
    p.add_argument("--cluster", action="store_true",
                   help="the jobs run on other machines: do not check this one for the devices the config lists")
    p.add_argument("--snakefile", help="also count the jobs a dry run of this workflow plans (Snakemake's total); "
                                       "default ./Snakefile where there is one, '' for none")
    p.set_defaults(func=_check_config)

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
    add_report_commands(sub)
    return parser


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        # The methods, datasets and nets of the workflow's plugins (ocbench.plugins), before any command.
        from .plugins import load_environment_plugins

        load_environment_plugins()
        args.func(args)
    except OcbenchError as err:
        print(f"ocbench: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
