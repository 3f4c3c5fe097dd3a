# Checks of what a run asks of the machine, each a one-line error before any job starts.
# The resources themselves are in common.smk (cluster resources); docs/cluster.md explains.
import os
import shlex
import sys

from ocbench.config import check_local_devices, exit_on_config_error
from ocbench.config.cluster import check_commands, check_partitions, check_requests, check_status_command
from ocbench.errors import OcbenchError

GPU_RESOURCES = ("gpu", "gpus", "gres", "gpu_model", "slurm_extra")


def _values(resources):
    """(name, plain value) of a resources mapping (Snakemake wraps each value in a Resource)."""
    return [(name, getattr(value, "raw", value)) for name, value in resources.items()]


def _asks_for_gpu(name, value):
    if name in ("gpu", "gpus"):
        return str(value) not in ("0", "", "None")
    return name == "gpu_model" or "gpu" in str(value).lower()


def check_gpu_requests():
    """A GPU asked for on the command line or in a profile, where no run uses cuda."""
    if "cuda" in config["devices"]:
        return
    settings = workflow.resource_settings
    given = [("default-resources ", settings.default_resources or {})]
    given += [(f"set-resources {rule}:", values) for rule, values in (settings.overwrite_resources or {}).items()]
    asked = [f"{where}{name}={value}" for where, values in given for name, value in _values(values)
             if name in GPU_RESOURCES and _asks_for_gpu(name, value)]
    if asked:
        raise OcbenchError(f"{asked[0]} asks for a GPU, but devices is {config['devices']}: "
                           "remove it (CUDA jobs ask for one GPU each), or add cuda to devices")


def exit_on_cluster_error(check, *args):
    """``check(*args)``; an ``OcbenchError`` ends the workflow with its one line (exit 1)."""
    try:
        check(*args)
    except OcbenchError as err:
        sys.exit(f"ocbench: error: {err}")


def submission_commands():
    """The sbatch command of one job of each rule and device this run will submit, as the
    executor plugin builds it (its own functions), for `sbatch --test-only`.

    A job's resources depend only on its rule and device here (common.smk, cluster
    resources, and --set-resources by rule), so one job of each stands for the rest.
    """
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    commands = {}
    for job in workflow.dag.needrun_jobs():
        device = job.wildcards_dict.get("device")
        what = f"{job.rule.name} (device {device})" if device else job.rule.name
        if job.is_local or what in commands:
            continue
        resources = job.resources
        names = dict(run_uuid="ocbench-check", slurm_logfile=os.devnull, comment_str="ocbench-check", workdir="")
        account = resources.get("slurm_account")
        partition = resources.get("slurm_partition")
        options = dict(account=f" -A {shlex.quote(str(account))}" if account else "",
                       partition=f" -p {shlex.quote(str(partition))}" if partition else "")
        command = get_submit_command(job, {**names, **options}, settings=workflow.executor_settings)
        commands[what] = shlex.split(command + set_gres_string(job))
    return commands


def check_slurm():
    """Before the first submission, when the executor is slurm (docs/cluster.md)."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.name != "slurm":
        return
    settings = workflow.executor_settings
    exit_on_cluster_error(check_commands)
    exit_on_config_error(CONFIG_SOURCES, check_partitions, config)
    exit_on_cluster_error(check_status_command, settings.status_command, settings.init_seconds_before_status_checks)
    exit_on_cluster_error(check_requests, submission_commands())


def check_runtime_calibration():
    """With `cluster.train.runtime: estimate`, every training job's time can be predicted from the
    calibration (docs/cost.md; slurm executor only: a local run asks for no runtime)."""
    plugin = workflow.executor_plugin
    if plugin is not None and plugin.name == "slurm" and config["cluster"]["train"]["runtime"] == "estimate":
        try:
            predicted_seconds()
        except OcbenchError as err:
            raise OcbenchError(f"cluster.train.runtime is estimate, but {err}") from None


check_gpu_requests()


onstart:
    check_slurm()
    check_runtime_calibration()
    if workflow.local_exec:  # CUDA on this machine; a cluster's nodes are not this machine
        exit_on_config_error(CONFIG_SOURCES, check_local_devices, config)
