"""Snakemake on a tiny config: the config, the command, and the files a rerun may change."""
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from helpers.paths import BIN, ROOT

TINY = {
    "datadir": "data",
    "outdir": "results",
    "seeds": [1],
    "methods": ["deep_svdd_oneclass", "cae", "isoforest"],
    "training": {"network": {"epochs": 1, "milestones": []},
                 "autoencoder": {"epochs": 1, "milestones": []}},
    "method_params": {"isoforest": {}},
    "datasets": {"mnist5k": {"normal_classes": [0, 1], "settings": ["one_class"]}},
}


PROFILE = ROOT / "workflow" / "profiles" / "default"


def workflow_env(**env_vars: str) -> dict:
    """This process's environment with the environment's bin (snakemake, ocbench) first on PATH."""
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env_vars)


def snakemake_command(workdir: Path, config: dict, *args: str, **env_vars: str) -> tuple[list[str], dict]:
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    env = workflow_env(**env_vars)
    command = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(configfile), *args]
    return command, env


def snakemake(workdir: Path, config: dict, *args: str, check: bool = True, **env_vars: str) -> subprocess.CompletedProcess:
    command, env = snakemake_command(workdir, config, *args, **env_vars)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def snakemake_with_configfile(workdir: Path, configfile: Path, *args: str) -> subprocess.CompletedProcess:
    """Snakemake in ``workdir`` on a config file as it is (a preset, say); the caller checks the result."""
    return subprocess.run([str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory",
                           str(workdir), "--configfile", str(configfile), *args],
                          capture_output=True, text=True, env=workflow_env(), timeout=900)


def snapshot(root: Path, under=("runs", "pretrain")) -> dict[str, tuple[bytes, int]]:
    """Every file under results/{runs,pretrain}: its bytes and modification time."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for part in under for p in sorted((root / "results" / part).rglob("*")) if p.is_file()}


def changed_files(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def copy_of_run(finished: Path, folder: Path) -> Path:
    """A copy of a finished workflow folder in ``folder``/run, each file with its modification time
    (copy2), so that a rerun there is judged as it would be in the original."""
    workdir = folder / "run"
    shutil.copytree(finished, workdir, symlinks=True)
    return workdir
