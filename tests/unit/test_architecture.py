"""The layering of docs/architecture.md, checked: import-linter's contracts (pyproject.toml) hold,
a broken one is caught, and the command line and the job modules import no heavy library
until a job needs it."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.paths import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(src: Path, config: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(src))
    return subprocess.run([str(LINT_IMPORTS), str(config), "--no-cache"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


def test_the_import_contracts_hold():
    result = lint_imports(ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_an_import_against_the_layers_or_a_circle_is_caught(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "ocbench", src / "ocbench", ignore=shutil.ignore_patterns("__pycache__"))
    (src / "ocbench" / "report" / "tables.py").open("a").write("\nfrom ..jobs import batch  # noqa\n")
    (src / "ocbench" / "nets" / "layers.py").open("a").write("\nfrom ..detectors import objectives  # noqa\n")
    source = src / "ocbench" / "data" / "dataset_source.py"  # splits imports it: this closes a circle
    source.open("a").write("\nfrom . import splits  # noqa\n")
    result = lint_imports(src, ROOT / "pyproject.toml")
    assert result.returncode == 1
    assert "Contracts: 1 kept, 3 broken." in result.stdout, result.stdout
    assert "ocbench.report is not allowed to import ocbench.jobs" in result.stdout
    assert "ocbench.nets.layers -> ocbench.detectors.objectives" in result.stdout
    assert "No cycles are allowed in ocbench.data." in result.stdout


HEAVY = ("torch", "sklearn", "torchvision", "matplotlib", "pandas", "scipy")


def test_the_command_line_and_the_jobs_import_no_heavy_library():
    """torch and scikit-learn are imported inside the functions that need them: `ocbench split`
    or a batch of shallow methods never pays for torch (docs/architecture.md)."""
    modules = ["ocbench.cli"] + [f"ocbench.jobs.{p.stem}" for p in (ROOT / "src/ocbench/jobs").glob("*.py")]
    code = (f"import importlib, json, sys\nfor name in {modules!r}:\n    importlib.import_module(name)\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []
