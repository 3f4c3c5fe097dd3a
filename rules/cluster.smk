# Checks of what a run asks of the machine, each a one-line error before any job starts.
# The resources themselves are in common.smk (cluster resources); docs/cluster.md explains.
import shutil
import subprocess

from ocbench.config import check_local_devices, exit_on_config_error
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


def _slurm_config():
    """`scontrol show config` as a dict (key -> value string)."""
    out = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise OcbenchError(f"`scontrol show config` failed ({out.stderr.strip()}): is this a SLURM login node?")
    pairs = (line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _seconds(value):
    number, _, unit = value.partition(" ")
    return int(number) * (3600 if unit.startswith("h") else 1) if number.isdigit() else 0


def check_slurm():
    """The partitions exist and the plugin's job status check can work (slurm executor only).

    Without accounting, `sacct` reports nothing and the plugin would wait forever; `squeue`
    (the profile's slurm-status-command) sees a finished job for MinJobAge seconds only.
    """
    plugin = workflow.executor_plugin
    if plugin is None or plugin.name != "slurm":
        return
    if shutil.which("sinfo") is None:
        raise OcbenchError("the slurm executor needs SLURM's commands (sinfo, sbatch, squeue) on the PATH")
    out = subprocess.run(["sinfo", "--noheader", "--format=%R"], capture_output=True, text=True, timeout=30)
    existing = set(out.stdout.split())
    uses_gpu = "cuda" in config["devices"]
    wanted = {("cluster.cpu_partition", config["cluster"]["cpu_partition"])}
    if uses_gpu:
        wanted.add(("cluster.gpu_partition", config["cluster"]["gpu_partition"]))
    for key, partition in sorted(wanted):
        if partition and partition not in existing:
            raise OcbenchError(f"{key}: partition '{partition}' does not exist on this cluster "
                               f"(`sinfo -s` lists {', '.join(sorted(existing)) or 'none'}); "
                               f"set it in the config or with --config 'cluster={{{key.split('.')[1]}: NAME}}'")
    if uses_gpu and not config["cluster"]["gpu_partition"]:
        raise OcbenchError("cluster.gpu_partition is null but devices has cuda: name the GPU partition (`sinfo -s`)")

    settings = workflow.executor_settings
    slurm = _slurm_config()
    accounting = slurm.get("AccountingStorageType", "") not in ("", "accounting_storage/none")
    if accounting:
        return
    if settings.status_command == "sacct":
        raise OcbenchError("this cluster has no accounting (AccountingStorageType=accounting_storage/none), "
                           "so `sacct` cannot report job states: use --slurm-status-command squeue")
    threshold = 3 * settings.init_seconds_before_status_checks
    min_job_age = _seconds(slurm.get("MinJobAge", "0"))
    if min_job_age < threshold:
        raise OcbenchError(f"this cluster has no accounting and keeps finished jobs for MinJobAge={min_job_age} s, "
                           f"less than the {threshold} s that `squeue` status checks need: ask for a higher "
                           "MinJobAge in slurm.conf, or lower --slurm-init-seconds-before-status-checks "
                           f"below {max(min_job_age // 3, 1)}")


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
