"""What `pip install ocbench` gets: a regular package that carries its config schema and published tables."""
import shutil
import subprocess
import sys
import zipfile

from helpers.paths import ROOT


def test_wheel_carries_the_schema_and_the_published_tables(tmp_path):
    # Built from a copy: pip builds in the source tree and would leave build/ behind.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "results", ".snakemake", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("ocbench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ocbench/__init__.py" in names  # a regular package, not a namespace package
    assert "ocbench/config.schema.yaml" in names
    assert "ocbench/published/deep_svdd_icml2018_oneclass.csv" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    # the library's own dependencies; the workflow's and the tests' tools are extras
    assert "Requires-Dist: torch==2.14.1" in metadata
    assert "Requires-Dist: snakemake==9.27.1; extra == \"workflow\"" in metadata
    assert "Requires-Dist: pytest==9.2.0; extra == \"test\"" in metadata


def test_the_workflow_schema_is_the_packaged_one():
    from ocbench.config import SCHEMA_PATH

    assert (ROOT / "workflow" / "schemas" / "config.schema.yaml").resolve() == SCHEMA_PATH.resolve()
