"""The repository's folders, as the tests see them."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: tests/helpers/paths.py
BIN = Path(sys.executable).parent  # the environment's bin: snakemake and ocbench
FIXTURES = ROOT / "tests" / "fixtures"
