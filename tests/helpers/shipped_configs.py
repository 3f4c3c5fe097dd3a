"""The configs the project ships, as pytest parameters.

A config that reads a dataset from a system folder (`mirror:`, for example Debian's
`dataset-fashion-mnist` in /usr/share/datasets/fashion-mnist) is validated only where
that folder exists: the config check refuses a mirror that lacks its files, so on a
machine without the package the test skips and says which folder is missing.
`.ci/run` installs the package, so CI runs them.
"""
from pathlib import Path

import pytest
import yaml

from helpers.paths import ROOT

PATHS = ["config.yaml"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "workflow" / "experiments").glob("*.yaml"))


def missing_mirrors(path: str) -> list[str]:
    """The mirror folders a shipped config names that are absent on this machine."""
    config = yaml.safe_load((ROOT / path).read_text())
    mirrors = [entry.get("mirror") for entry in (config.get("datasets") or {}).values() if isinstance(entry, dict)]
    return sorted(m for m in mirrors if m and not Path(m).is_dir())


def _param(path: str):
    missing = missing_mirrors(path)
    reason = f"{path} reads {', '.join(missing)}, which is absent here (apt-get install dataset-fashion-mnist)"
    return pytest.param(path, marks=pytest.mark.skipif(bool(missing), reason=reason), id=path)


SHIPPED_CONFIGS = [_param(path) for path in PATHS]
